import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { inspectCommand } from '../../src/cli/commands/inspect';
import type { CommandContext } from '../../src/cli/context';
import type { ModelInspection } from '../../src/core/api';
import { HeatError } from '../../src/core/errors';
import { memoryLogger, noProgress } from '../../src/core/log';
import { addOutputs, encodeModel, listTensors, loadModel, onnx } from '../../src/core/model';
import { assertClose, model, node, TINY, tinyGolden, tinyInput, valueInfo } from './helpers';

describe('model/loadModel', () => {
  it('tiny fixture decodes with opset 13 and the file hash', async () => {
    const loaded = await loadModel(TINY);
    assert.equal(loaded.opset, 13);
    assert.equal(loaded.sha256, createHash('sha256').update(readFileSync(TINY)).digest('hex'));
  });

  it('missing file names the path and the setting', async () => {
    await assert.rejects(loadModel('/nonexistent/model.onnx'), (error: unknown) =>
      error instanceof HeatError && /Cannot read model \/nonexistent\/model\.onnx: the file does not exist/.test(error.message) && /heat\.model\.path/.test(error.message));
  });

  it('corrupt and truncated files are rejected as not ONNX', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'heat-model-'));
    try {
      const text = path.join(dir, 'text.onnx');
      writeFileSync(text, 'this is not a protobuf message at all');
      await assert.rejects(loadModel(text), /text\.onnx is not a valid ONNX file/);
      const truncated = path.join(dir, 'truncated.onnx');
      writeFileSync(truncated, readFileSync(TINY).subarray(0, 20000));
      await assert.rejects(loadModel(truncated), /truncated\.onnx is not a valid ONNX file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('model/loadModel external data', () => {
  it('external weights are inlined and run', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'heat-external-'));
    try {
      const weights = Float32Array.from([0.5, -1, 2, 4]);
      // Eight bytes of padding in front, so the offset entry is exercised.
      writeFileSync(path.join(dir, 'weights.bin'), Buffer.concat([Buffer.alloc(8), Buffer.from(weights.buffer)]));
      const proto = model({
        input: [valueInfo('x', [4])],
        output: [valueInfo('y', [4])],
        initializer: [{
          name: 'w', dataType: 1, dims: [4], dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
          externalData: [{ key: 'location', value: 'weights.bin' }, { key: 'offset', value: '8' }, { key: 'length', value: '16' }],
        }],
        node: [node('Add', ['x', 'w'], ['y'])],
      }, 13);
      const file = path.join(dir, 'external.onnx');
      writeFileSync(file, encodeModel(proto));

      const loaded = await loadModel(file);
      assert.equal(loaded.sha256, createHash('sha256').update(readFileSync(file)).digest('hex'), 'hash of the file as stored');
      const session = await ort.InferenceSession.create(loaded.bytes);
      const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 1, 1, 1]), [4]) });
      assert.deepEqual([...(out.y.data as Float32Array)], [1.5, 0, 3, 5]);
      await session.release();

      rmSync(path.join(dir, 'weights.bin'));
      await assert.rejects(loadModel(file), /Cannot read external data .*weights\.bin of model/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('model/listTensors', () => {
  // Shapes follow from export_tiny.py: 32×48 input, strides 1, 1, 2, 2 → 8×12 at layer3; logits upsampled back.
  it('tiny model lists input, output and measured intermediates', async () => {
    const inspection = await listTensors(await loadModel(TINY));
    assert.deepEqual(inspection.inputs.map((t) => [t.name, t.shape, t.measured]), [['image', ['batch', 3, 32, 48], false]]);
    assert.deepEqual(inspection.outputs.map((t) => [t.name, t.op, t.shape, t.measured]), [['logits', 'Resize', [1, 4, 32, 48], true]]);
    const layer3 = inspection.intermediates.find((t) => t.name === '/backbone/layer3/layer3.1/relu/Relu_output_0');
    assert.deepEqual(layer3 && [layer3.op, layer3.node, layer3.shape, layer3.measured, layer3.dtype],
      ['Relu', '/backbone/layer3/layer3.1/relu/Relu', [1, 16, 8, 12], true, 'float32']);
    const layer2 = inspection.intermediates.find((t) => t.name === '/backbone/layer2/layer2.1/relu/Relu_output_0');
    assert.deepEqual(layer2?.shape, [1, 16, 16, 24]);
    assert.equal(inspection.intermediates.filter((t) => t.shape === null).length, 0);
    assert.deepEqual(inspection.warnings, []);
  });

  it('measure: false keeps undeclared shapes unknown', async () => {
    const inspection = await listTensors(await loadModel(TINY), { measure: false });
    assert.ok(inspection.intermediates.every((t) => t.shape === null && !t.measured));
  });

  it('inspect --json prints the listing', async () => {
    const printed: string[] = [];
    const context: CommandContext = { log: memoryLogger(), progress: noProgress, signal: new AbortController().signal, cwd: process.cwd(), print: (l) => printed.push(l) };
    assert.equal(await inspectCommand.run([TINY, '--json'], context), 0);
    const parsed = JSON.parse(printed.join('\n')) as ModelInspection;
    assert.equal(parsed.intermediates.find((t) => t.name.endsWith('layer3.1/relu/Relu_output_0'))?.shape?.join('x'), '1x16x8x12');
  });

  it('inspect without a model returns usage code 2', async () => {
    const log = memoryLogger();
    const context: CommandContext = { log, progress: noProgress, signal: new AbortController().signal, cwd: process.cwd(), print: () => undefined };
    assert.equal(await inspectCommand.run([], context), 2);
    assert.match(log.lines.join('\n'), /inspect needs exactly one model file/);
  });

  it('inspect of a missing model raises HeatError', async () => {
    const context: CommandContext = { log: memoryLogger(), progress: noProgress, signal: new AbortController().signal, cwd: process.cwd(), print: () => undefined };
    await assert.rejects(inspectCommand.run(['/nonexistent/m.onnx'], context), (error: unknown) => error instanceof HeatError && /Cannot read model/.test(error.message));
  });

  it('inspect text listing marks measured shapes', async () => {
    const printed: string[] = [];
    const context: CommandContext = { log: memoryLogger(), progress: noProgress, signal: new AbortController().signal, cwd: process.cwd(), print: (l) => printed.push(l) };
    assert.equal(await inspectCommand.run([TINY], context), 0);
    assert.ok(printed.includes('  /backbone/layer3/layer3.1/relu/Relu_output_0  Relu  [1, 16, 8, 12]*  float32'), printed.join('\n'));
    assert.ok(printed.includes('Layout of input image: NCHW (axis 1 has 3 channels); override with heat.model.inputLayout.'), printed.join('\n'));
    assert.ok(printed.some((l) => l.startsWith('Layout of output logits: NCHW')), printed.join('\n'));
  });
});

describe('model/addOutputs', () => {
  it('an intermediate becomes an output and equals PyTorch\'s layer3 features', async () => {
    const loaded = await loadModel(TINY);
    const name = '/backbone/layer3/layer3.1/relu/Relu_output_0';
    const edited = addOutputs(loaded.proto, [name]);
    assert.deepEqual(edited.graph!.output!.map((o) => o.name), ['logits', name]);
    assert.deepEqual(loaded.proto.graph!.output!.map((o) => o.name), ['logits'], 'the original model is unchanged');

    const session = await ort.InferenceSession.create(encodeModel(edited));
    const out = await session.run({ image: new ort.Tensor('float32', tinyInput(), [1, 3, 32, 48]) });
    const golden = tinyGolden();
    assert.deepEqual([...out[name].dims], golden.features.shape);
    assertClose(out[name].data as Float32Array, golden.features.data, 1e-4, 'features');
    assertClose(out.logits.data as Float32Array, golden.logits.data, 1e-4, 'logits');
    await session.release();
  });

  it('unknown tensor names the tensor and inspect', async () => {
    const loaded = await loadModel(TINY);
    assert.throws(() => addOutputs(loaded.proto, ['no/such/tensor']), /Tensor "no\/such\/tensor" does not exist in the model\. Run "heat-lens inspect/);
  });
});
