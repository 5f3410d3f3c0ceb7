import { strict as assert } from 'node:assert';
import * as ort from 'onnxruntime-node';
import { addOutputs, encodeModel, mergeHead, onnx } from '../../src/core/model';
import { model, node, testHead, valueInfo } from './helpers';

const F = onnx.TensorProto.DataType.FLOAT;

function floats(name: string, values: number[], dims: number[]): onnx.TensorProto {
  return new onnx.TensorProto({ name, dataType: F, dims, floatData: values });
}

function opTypes(m: onnx.IModelProto): string[] {
  return (m.graph?.node ?? []).map((n) => n.opType ?? '');
}

async function runModel(m: onnx.IModelProto, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(encodeModel(m));
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

describe('model/edit unused nodes', () => {
  const x = [-2, -0.5, 0, 1.5];

  it('addOutputs drops the unused tail', async () => {
    const m = model({
      name: 'dead-tail',
      input: [valueInfo('x', [1, 4])],
      output: [valueInfo('tail', [1, 4])],
      initializer: [floats('bias', [1, 2, 3, 4], [1, 4])],
      node: [node('Relu', ['x'], ['a']), node('Add', ['a', 'bias'], ['b']), node('Exp', ['b'], ['tail'])],
    }, 17);
    const edited = addOutputs(m, ['a'], false);
    assert.deepEqual(opTypes(edited), ['Relu']);
    assert.deepEqual(edited.graph?.initializer?.map((t) => t.name), []);
    const out = await runModel(edited, { x: new ort.Tensor('float32', Float32Array.from(x), [1, 4]) });
    assert.deepEqual([...out.a.data as Float32Array], x.map((v) => Math.max(v, 0)));
    // Keeping the model's outputs keeps the whole chain.
    assert.deepEqual(opTypes(addOutputs(m, ['a'])), ['Relu', 'Add', 'Exp']);
  });

  it('outer-scope read keeps its producer', async () => {
    const branch = (name: string, source: string) => new onnx.GraphProto({
      name, output: [valueInfo(`${name}_out`, [1, 4])], node: [node('Identity', [source], [`${name}_out`])],
    });
    const m = model({
      name: 'outer-scope',
      input: [valueInfo('x', [1, 4]), valueInfo('flag', [], onnx.TensorProto.DataType.BOOL)],
      output: [valueInfo('y', [1, 4])],
      node: [
        node('Sigmoid', ['x'], ['s']),
        node('Neg', ['x'], ['unused']),
        node('If', ['flag'], ['y'], [
          { name: 'then_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: branch('then', 's') },
          { name: 'else_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: branch('else', 'x') },
        ]),
      ],
    }, 17);
    const edited = addOutputs(m, ['y'], false);
    assert.deepEqual(opTypes(edited), ['Sigmoid', 'If']);
    const out = await runModel(edited, {
      x: new ort.Tensor('float32', Float32Array.from(x), [1, 4]),
      flag: new ort.Tensor('bool', Uint8Array.from([1]), []),
    });
    const expected = x.map((v) => 1 / (1 + Math.exp(-v)));
    (out.y.data as Float32Array).forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-6, `y[${i}] = ${v}, expected ${expected[i]}`));
  });

  it('mergeHead drops layers after bindings', async () => {
    // The head reads the model's low-resolution maps; the model's own upsampled output is no longer computed.
    const m = model({
      name: 'upsampled-logits',
      input: [valueInfo('image', [1, 3, 2, 2])],
      output: [valueInfo('logits_full', [1, 3, 4, 4])],
      initializer: [floats('scales', [1, 1, 2, 2], [4])],
      node: [
        node('Relu', ['image'], ['logits_low']),
        node('Resize', ['logits_low', '', 'scales'], ['logits_full'], [{ name: 'mode', type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode('nearest') }]),
      ],
    }, 17);
    const merged = mergeHead(m, testHead(), {
      logits: { tensor: 'logits_low', layout: 'NCHW' }, features: { tensor: 'logits_low', layout: 'NCHW' },
    }, { prefix: 'heat/' });
    assert.ok(!opTypes(merged.model).includes('Resize'), `nodes: ${opTypes(merged.model).join(', ')}`);
    assert.ok(!(merged.model.graph?.initializer ?? []).some((t) => t.name === 'scales'));
    const image = Float32Array.from({ length: 12 }, (_, i) => i - 6);
    const out = await runModel(merged.model, { image: new ort.Tensor('float32', image, [1, 3, 2, 2]) });
    // max over the 3 channels of relu(image): channel 2 contains 2..5.
    assert.deepEqual([...out[merged.headOutputs.max_logit].data as Float32Array], [2, 3, 4, 5]);
  });
});
