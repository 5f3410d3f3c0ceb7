import { strict as assert } from 'node:assert';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { defaultOpset, encodeModel, relabelBlocker, upgradeOpset } from '../../src/core/model';
import { int, ints, model, node, valueInfo } from './helpers';

const F = onnx.TensorProto.DataType.FLOAT;
const STRING = onnx.AttributeProto.AttributeType.STRING;
const FLOAT = onnx.AttributeProto.AttributeType.FLOAT;
const FLOATS = onnx.AttributeProto.AttributeType.FLOATS;

/** Runs a model on x (shape `dims`, values cos(i)) and returns every output. */
async function run(proto: onnx.IModelProto, dims: number[]): Promise<Record<string, ort.Tensor>> {
  const size = dims.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: size }, (_, i) => 3 * Math.cos(i));
  const session = await ort.InferenceSession.create(encodeModel(proto));
  const out = await session.run({ x: new ort.Tensor('float32', x, dims) });
  await session.release();
  return out;
}

/**
 * Checks that the model upgraded to `to` computes what onnxruntime computes for the original op version,
 * which is the reference here: both runs must agree exactly, with the same shapes.
 */
async function assertSameAfterUpgrade(original: onnx.ModelProto, dims: number[], to = 17): Promise<void> {
  assert.equal(relabelBlocker(original, to), undefined);
  const upgraded = upgradeOpset(original, to);
  assert.equal(defaultOpset(upgraded), to);
  const before = await run(original, dims);
  const after = await run(upgraded, dims);
  for (const name of Object.keys(before)) {
    assert.deepEqual([...after[name].dims], [...before[name].dims], `${name} shape`);
    assert.deepEqual([...(after[name].data as Float32Array)], [...(before[name].data as Float32Array)], `${name} values`);
  }
}

const text = (value: string) => new TextEncoder().encode(value);

function single(opset: number, inputShape: number[], nodes: onnx.INodeProto[], outputs: string[], initializer: onnx.ITensorProto[] = []): onnx.ModelProto {
  return model({ input: [valueInfo('x', inputShape)], output: outputs.map((o) => valueInfo(o, null)), node: nodes, initializer }, opset, opset < 9 ? 3 : 4);
}

describe('model/upgradeOpset', () => {
  it('Clip attributes become inputs (opset 9 → 17)', async () => {
    const m = single(9, [2, 3], [
      node('Clip', ['x'], ['both'], [{ name: 'min', type: FLOAT, f: -1 }, { name: 'max', type: FLOAT, f: 2 }]),
      node('Clip', ['x'], ['upper'], [{ name: 'max', type: FLOAT, f: 0.5 }]),
    ], ['both', 'upper']);
    await assertSameAfterUpgrade(m, [2, 3]);
  });

  it('Upsample nearest and linear become Resize (opset 9 → 17)', async () => {
    const m = single(9, [1, 2, 3, 4], [
      node('Upsample', ['x', 'scales_up'], ['nearest'], [{ name: 'mode', type: STRING, s: text('nearest') }]),
      node('Upsample', ['x', 'scales_frac'], ['linear'], [{ name: 'mode', type: STRING, s: text('linear') }]),
    ], ['nearest', 'linear'], [
      { name: 'scales_up', dataType: F, dims: [4], floatData: [1, 1, 2, 3] },
      { name: 'scales_frac', dataType: F, dims: [4], floatData: [1, 1, 2.5, 1.75] },
    ]);
    await assertSameAfterUpgrade(m, [1, 2, 3, 4]);
  });

  it('Upsample with a scales attribute becomes Resize (opset 7 → 17)', async () => {
    const m = single(7, [1, 1, 2, 2], [
      node('Upsample', ['x'], ['y'], [{ name: 'mode', type: STRING, s: text('linear') }, { name: 'scales', type: FLOATS, floats: [1, 1, 3, 2] }]),
    ], ['y']);
    await assertSameAfterUpgrade(m, [1, 1, 2, 2]);
  });

  it('Upsample that shrinks blocks the upgrade', () => {
    const m = single(9, [1, 1, 4, 4], [node('Upsample', ['x', 's'], ['y'], [], 'shrink')], ['y'], [{ name: 's', dataType: F, dims: [4], floatData: [1, 1, 0.5, 0.5] }]);
    assert.match(relabelBlocker(m, 17) ?? '', /Upsample node "shrink" shrinks/);
  });

  it('axes attributes become inputs (opset 11 → 17)', async () => {
    const m = single(11, [2, 3, 1], [
      node('Unsqueeze', ['x'], ['unsqueezed'], [ints('axes', [0, 4])]),
      node('Squeeze', ['x'], ['squeezed'], [ints('axes', [2])]),
      node('Squeeze', ['x'], ['squeezed_all'], [], 'squeeze_all'),
      node('ReduceSum', ['x'], ['sum'], [ints('axes', [1]), int('keepdims', 0)]),
      node('ReduceSum', ['x'], ['sum_all'], [], 'sum_all'),
    ], ['unsqueezed', 'squeezed', 'squeezed_all', 'sum', 'sum_all']);
    await assertSameAfterUpgrade(m, [2, 3, 1]);
  });

  it('reductions move axes to inputs at opset 18', async () => {
    const m = single(13, [2, 3, 4], [
      node('ReduceMax', ['x'], ['max'], [ints('axes', [1]), int('keepdims', 0)]),
      node('ReduceMean', ['x'], ['mean'], [ints('axes', [0, 2])]),
    ], ['max', 'mean']);
    await assertSameAfterUpgrade(m, [2, 3, 4], 18);
  });

  it('Split sizes become an input; an even split states num_outputs at 18', async () => {
    const m = single(11, [2, 6], [
      node('Split', ['x'], ['a', 'b'], [int('axis', 1), ints('split', [2, 4])], 'sized'),
      node('Split', ['x'], ['c', 'd', 'e'], [int('axis', 1)], 'even'),
    ], ['a', 'b', 'c', 'd', 'e']);
    await assertSameAfterUpgrade(m, [2, 6], 17);
    await assertSameAfterUpgrade(m, [2, 6], 18);
  });

  it('unconvertible change blocks with the node named', () => {
    const m = single(9, [4, 4], [node('Slice', ['x'], ['y'], [ints('starts', [1]), ints('ends', [3]), ints('axes', [0])], 'old_slice')], ['y']);
    assert.equal(relabelBlocker(m, 17), 'Slice node "old_slice" changed meaning at opset 10');
    assert.throws(() => upgradeOpset(m, 17), /Cannot raise the model from opset 9 to 17: Slice node "old_slice"/);
  });

  it('model at the target opset is returned unchanged', () => {
    const m = single(17, [2], [node('Relu', ['x'], ['y'])], ['y']);
    assert.equal(upgradeOpset(m, 17), m);
  });
});
