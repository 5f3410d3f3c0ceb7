import { strict as assert } from 'node:assert';
import { HeatError } from '../../src/core/errors';
import { loadModel, moduleOfNode, resolveLayer, resolveLogits } from '../../src/core/model';
import { model, node, valueInfo, requireFile, TINY, TWINLITE } from './helpers';

// Expected names follow from export_tiny.py: backbone.layer3 is a Sequential of two Blocks (conv, bn, relu),
// and batch norm is folded into the convolution by the export, so each block ends in its ReLU.
const LAYER3_OUT = '/backbone/layer3/layer3.1/relu/Relu_output_0';

describe('model/resolveLayer', () => {
  it('module path "layer3" resolves to the last tensor of backbone.layer3', async () => {
    const { proto } = await loadModel(TINY);
    const resolved = resolveLayer(proto, 'layer3');
    assert.equal(resolved.tensor, LAYER3_OUT);
    assert.equal(resolved.module, 'backbone.layer3');
    assert.equal(resolved.op, 'Relu');
  });

  it('full module path and a Sequential child resolve', async () => {
    const { proto } = await loadModel(TINY);
    assert.equal(resolveLayer(proto, 'backbone.layer3').tensor, LAYER3_OUT);
    assert.equal(resolveLayer(proto, 'layer3.0').tensor, '/backbone/layer3/layer3.0/relu/Relu_output_0');
    assert.equal(resolveLayer(proto, 'backbone.layer2.1.conv').tensor, '/backbone/layer2/layer2.1/conv/Conv_output_0');
    assert.equal(resolveLayer(proto, 'backbone').tensor, LAYER3_OUT);
  });

  it('exact tensor names and the input resolve as given', async () => {
    const { proto } = await loadModel(TINY);
    const resolved = resolveLayer(proto, '/backbone/layer2/layer2.0/conv/Conv_output_0');
    assert.deepEqual([resolved.how, resolved.op], ['tensor', 'Conv']);
    assert.equal(resolveLayer(proto, 'image').how, 'tensor');
  });

  it('node names map to module paths with Sequential children shortened', () => {
    assert.equal(moduleOfNode('/backbone/layer3/layer3.1/relu/Relu'), 'backbone.layer3.1.relu');
    assert.equal(moduleOfNode('/head/Conv'), 'head');
    assert.equal(moduleOfNode('Conv_12'), undefined);
  });

  it('missing layer error lists the closest candidates', async () => {
    const { proto } = await loadModel(TINY);
    assert.throws(() => resolveLayer(proto, 'layr3'), (error: unknown) => {
      assert.ok(error instanceof HeatError);
      assert.match(error.message, /"layr3" is neither a tensor nor a module/);
      assert.match(error.message, /Closest: [^.]*backbone\.layer3/);
      assert.match(error.message, /heat\.model\.featureLayer/);
      return true;
    });
  });

  it('ambiguous module path error names every match', () => {
    const graph = model({
      input: [valueInfo('x', [1, 2])],
      output: [valueInfo('z', [1, 2])],
      node: [node('Relu', ['x'], ['a'], [], '/encoder/layer3/Relu'), node('Relu', ['a'], ['z'], [], '/decoder/layer3/Relu')],
    }, 13);
    assert.throws(() => resolveLayer(graph, 'layer3'), /matches 2 modules: encoder\.layer3, decoder\.layer3/);
    assert.equal(resolveLayer(graph, 'decoder.layer3').tensor, 'z');
  });

  it('TwinLiteNet "encoder" resolves to the shared encoder output (real model)', async function () {
    requireFile(this, TWINLITE);
    const { proto } = await loadModel(TWINLITE);
    assert.equal(resolveLayer(proto, 'encoder').tensor, '/encoder/classifier/act/PRelu_output_0');
  });
});

describe('model/resolveLogits', () => {
  it('empty setting picks the first output', async () => {
    const { proto } = await loadModel(TINY);
    assert.equal(resolveLogits(proto, ''), 'logits');
  });

  it('an intermediate tensor name is accepted', async () => {
    const { proto } = await loadModel(TINY);
    assert.equal(resolveLogits(proto, '/head/Conv_output_0'), '/head/Conv_output_0');
  });

  it('unknown logits tensor lists outputs and the setting', async () => {
    const { proto } = await loadModel(TINY);
    assert.throws(() => resolveLogits(proto, '/head/Conv_output'), (error: unknown) => {
      assert.ok(error instanceof HeatError);
      assert.match(error.message, /Logits tensor "\/head\/Conv_output" does not exist in the model\. Outputs: logits\./);
      assert.match(error.message, /Closest: \/head\/Conv_output_0/);
      assert.match(error.message, /heat\.model\.logitsTensor/);
      return true;
    });
  });
});
