import { strict as assert } from 'node:assert';
import * as ort from 'onnxruntime-node';
import { HeatError } from '../../src/core/errors';
import { memoryLogger } from '../../src/core/log';
import { loadModel, mergeHead, relabelBlocker, resolveLayer, ScoringPipeline } from '../../src/core/model';
import { assertClose, int, ints, maxOverChannels, model, node, testHead, TINY, tinyGolden, tinyInput, valueInfo } from './helpers';

const FEATURES = '/backbone/layer3/layer3.1/relu/Relu_output_0';

/** Softmax over classes of a [1, C, H, W] array, the reference for the head's probabilities output. */
function softmaxReference(data: ArrayLike<number>, c: number, pixels: number): Float32Array {
  const out = new Float32Array(c * pixels);
  for (let i = 0; i < pixels; i++) {
    let max = -Infinity;
    for (let k = 0; k < c; k++) max = Math.max(max, data[k * pixels + i]);
    let sum = 0;
    for (let k = 0; k < c; k++) sum += Math.exp(data[k * pixels + i] - max);
    for (let k = 0; k < c; k++) out[k * pixels + i] = Math.exp(data[k * pixels + i] - max) / sum;
  }
  return out;
}

describe('model/ScoringPipeline', () => {
  const bindings = { logits: { tensor: 'logits', layout: 'NCHW' as const }, features: { tensor: FEATURES, layout: 'NCHW' as const } };
  const feeds = () => ({ image: new ort.Tensor('float32', tinyInput(), [1, 3, 32, 48]) });

  it('tiny opset 13 model merges with an opset 17 head', async () => {
    const loaded = await loadModel(TINY);
    assert.equal(relabelBlocker(loaded.proto, 17), undefined);
    const merged = mergeHead(loaded.proto, testHead(), bindings, { prefix: 'heat/', keepOutputs: ['logits'] });
    assert.deepEqual(merged.model.graph!.output!.map((o) => o.name), ['heat/max_logit', 'heat/feature_max', 'heat/probabilities', 'logits']);
    assert.deepEqual(merged.model.opsetImport.map((o) => [o.domain, Number(o.version)]), [['', 17]]);
  });

  it('merged and two-session paths give the same maps, equal to the PyTorch reference', async () => {
    const golden = tinyGolden();
    const merged = await ScoringPipeline.create(await loadModel(TINY), testHead(), bindings, { provider: 'cpu', keepOutputs: ['logits'] });
    const split = await ScoringPipeline.create(await loadModel(TINY), testHead(), bindings, { provider: 'cpu', keepOutputs: ['logits'], forceTwoSession: true });
    assert.deepEqual([merged.mode, split.mode], ['merged', 'two-session']);
    assert.deepEqual([merged.executionProvider, split.executionProvider], ['cpu', 'cpu']);

    const a = await merged.run(feeds());
    const b = await split.run(feeds());
    assert.deepEqual(Object.keys(a).sort(), ['feature_max', 'logits', 'max_logit', 'probabilities']);
    for (const name of Object.keys(a)) {
      assert.deepEqual([...a[name].dims], [...b[name].dims], name);
      assertClose(a[name].data as Float32Array, b[name].data as Float32Array, 1e-6, name);
    }
    assert.deepEqual([...a.max_logit.dims], [1, 32, 48]);
    assertClose(a.max_logit.data as Float32Array, maxOverChannels(golden.logits.data, 4, 32, 48), 1e-4, 'max_logit');
    assertClose(a.feature_max.data as Float32Array, maxOverChannels(golden.features.data, 16, 8, 12), 1e-4, 'feature_max');
    assertClose(a.probabilities.data as Float32Array, softmaxReference(golden.logits.data, 4, 32 * 48), 1e-4, 'probabilities');
    await merged.release();
    await split.release();
  });

  it('module-path features resolve and feed the head', async () => {
    const loaded = await loadModel(TINY);
    const features = resolveLayer(loaded.proto, 'layer3').tensor;
    const pipeline = await ScoringPipeline.create(loaded, testHead(), { ...bindings, features: { tensor: features, layout: 'NCHW' } }, { provider: 'cpu' });
    const out = await pipeline.run(feeds());
    assert.deepEqual([...out.feature_max.dims], [1, 8, 12]);
    await pipeline.release();
  });

  /** Builds a model whose output is NHWC: y = Transpose(x, [0, 2, 3, 1]) of an NCHW input, so y's NCHW view is x. */
  function nhwcModel(opset: number) {
    return model({
      input: [valueInfo('x', [1, 3, 4, 5])],
      output: [valueInfo('y', [1, 4, 5, 3])],
      node: [node('Transpose', ['x'], ['y'], [ints('perm', [0, 2, 3, 1])])],
    }, opset);
  }
  const nhwcBindings = { logits: { tensor: 'y', layout: 'NHWC' as const }, features: { tensor: 'y', layout: 'NHWC' as const } };

  for (const forceTwoSession of [false, true]) {
    it(`NHWC tensors reach the head as NCHW (${forceTwoSession ? 'two-session' : 'merged'})`, async () => {
      const x = Float32Array.from({ length: 60 }, (_, i) => Math.cos(i));
      const pipeline = await ScoringPipeline.create(nhwcModel(17), testHead(), nhwcBindings, { provider: 'cpu', forceTwoSession });
      assert.equal(pipeline.mode, forceTwoSession ? 'two-session' : 'merged');
      const out = await pipeline.run({ x: new ort.Tensor('float32', x, [1, 3, 4, 5]) });
      assertClose(out.max_logit.data as Float32Array, maxOverChannels(x, 3, 4, 5), 1e-6, 'max over NCHW channels');
      assertClose(out.probabilities.data as Float32Array, softmaxReference(x, 3, 20), 1e-5, 'softmax');
      await pipeline.release();
    });
  }

  it('an opset 9 model with attribute Slice runs two sessions', async () => {
    // Slice took starts and ends as attributes before opset 10, and no rewrite covers it.
    const old = model({
      input: [valueInfo('x', [1, 3, 2, 4])],
      output: [valueInfo('cut', [1, 3, 2, 2])],
      node: [node('Slice', ['x'], ['cut'], [ints('starts', [1]), ints('ends', [3]), ints('axes', [3])], 'Slice_1')],
    }, 9, 4);
    assert.equal(relabelBlocker(old, 17), 'Slice node "Slice_1" changed meaning at opset 10');
    const log = memoryLogger();
    const pipeline = await ScoringPipeline.create(old, testHead(), { logits: { tensor: 'cut', layout: 'NCHW' }, features: { tensor: 'x', layout: 'NCHW' } }, { provider: 'cpu', log });
    assert.equal(pipeline.mode, 'two-session');
    assert.ok(log.lines.some((l) => /second session: Slice/.test(l)), log.lines.join('\n'));
    const x = Float32Array.from({ length: 24 }, (_, i) => i);
    const out = await pipeline.run({ x: new ort.Tensor('float32', x, [1, 3, 2, 4]) });
    // Columns 1 and 2 of the last channel (values 16 + 4y + x) hold the maxima.
    assert.deepEqual([...(out.max_logit.data as Float32Array)], [17, 18, 21, 22]);
    await pipeline.release();
  });

  it('relabelBlocker Softmax axis cases', () => {
    const softmax = (axis: number) => model({
      input: [valueInfo('x', [1, 3, 4, 5])], output: [valueInfo('p', [1, 3, 4, 5])],
      node: [node('Softmax', ['x'], ['p'], [int('axis', axis)], 'sm')],
    }, 11);
    assert.match(relabelBlocker(softmax(1), 17) ?? '', /Softmax node "sm"/);
    assert.equal(relabelBlocker(softmax(-1), 17), undefined);
    assert.equal(relabelBlocker(softmax(3), 17, new Map([['x', 4]])), undefined);
  });

  for (const forceTwoSession of [false, true]) {
    it(`extra bindings are ignored (${forceTwoSession ? 'two-session' : 'merged'})`, async () => {
      // A logits-only head, as the HEAT head is without statistics, still given a features binding.
      const head = testHead();
      head.graph!.input = head.graph!.input!.filter((v) => v.name === 'logits');
      head.graph!.node = head.graph!.node!.filter((n) => n.name !== 'feature_max');
      head.graph!.output = head.graph!.output!.filter((v) => v.name !== 'feature_max');
      const pipeline = await ScoringPipeline.create(await loadModel(TINY), head, bindings, { provider: 'cpu', forceTwoSession });
      const out = await pipeline.run(feeds());
      assert.deepEqual(Object.keys(out).sort(), ['max_logit', 'probabilities']);
      assertClose(out.max_logit.data as Float32Array, maxOverChannels(tinyGolden().logits.data, 4, 32, 48), 1e-4, 'max_logit');
      await pipeline.release();
    });
  }

  it('opset 18 model raises the opset 17 head', async () => {
    // ReduceMax takes its axes as an input from opset 18, so the head's attribute form must be rewritten.
    const x = Float32Array.from({ length: 60 }, (_, i) => Math.sin(i));
    const results = [];
    for (const forceTwoSession of [false, true]) {
      const pipeline = await ScoringPipeline.create(nhwcModel(18), testHead(), nhwcBindings, { provider: 'cpu', forceTwoSession });
      assert.equal(pipeline.mode, forceTwoSession ? 'two-session' : 'merged');
      results.push(await pipeline.run({ x: new ort.Tensor('float32', x, [1, 3, 4, 5]) }));
      await pipeline.release();
    }
    assertClose(results[0].max_logit.data as Float32Array, maxOverChannels(x, 3, 4, 5), 1e-6, 'merged max_logit');
    assertClose(results[1].max_logit.data as Float32Array, maxOverChannels(x, 3, 4, 5), 1e-6, 'two-session max_logit');
  });

  it('an unbound head input is an error naming it', async () => {
    const loaded = await loadModel(TINY);
    await assert.rejects(ScoringPipeline.create(loaded, testHead(), { logits: bindings.logits } as never, { provider: 'cpu' }),
      (error: unknown) => error instanceof HeatError && /Head input "features" has no binding/.test(error.message));
  });
});
