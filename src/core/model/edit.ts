/**
 * Graph editing: expose intermediate tensors as outputs, and merge a HEAT head graph after the model so that
 * one session.run returns the score maps. Edits return new messages that share untouched parts (nodes,
 * initializers) with the original, so editing a large model copies no weights.
 */
import { HeatError } from '../errors';
import type { Layout } from '../tensor';
import { declaredValues, defaultOpset, initializerNames, makeValueInfo, onnx, toNumber, valueDtype, valueShape } from './onnx';
import { upgradeOpset } from './opset';

/** Shallow copy of a model with its graph replaced by `graph` fields. */
function withGraph(model: onnx.IModelProto, graph: onnx.IGraphProto): onnx.ModelProto {
  return new onnx.ModelProto({ ...model, graph: new onnx.GraphProto({ ...model.graph, ...graph }) });
}

/** Names of every tensor the graph can produce or holds: node outputs, inputs and initializers. */
export function tensorNames(graph: onnx.IGraphProto): Set<string> {
  const names = new Set<string>(initializerNames(graph));
  for (const input of graph.input ?? []) if (input.name) names.add(input.name);
  for (const node of graph.node ?? []) for (const output of node.output ?? []) if (output) names.add(output);
  return names;
}

/**
 * Returns the model with `names` as its graph outputs, in that order: existing outputs among them keep their
 * declaration, others get one from value_info when present or a bare name (onnxruntime infers the type).
 * With `keepExisting` the model's own outputs stay in front; otherwise they are dropped, and so are the nodes
 * that only fed them (see withoutUnusedNodes).
 */
export function addOutputs(model: onnx.IModelProto, names: readonly string[], keepExisting = true): onnx.ModelProto {
  const graph = model.graph ?? {};
  const known = tensorNames(graph);
  const missing = names.filter((n) => !known.has(n));
  if (missing.length > 0) {
    throw new HeatError(`Tensor ${missing.map((n) => `"${n}"`).join(', ')} does not exist in the model.`, 'Run "heat-lens inspect MODEL.onnx" to list the tensor names.', missing[0]);
  }
  const declared = declaredValues(graph);
  const outputs: onnx.IValueInfoProto[] = keepExisting ? [...(graph.output ?? [])] : [];
  const present = new Set(outputs.map((o) => o.name));
  for (const name of names) {
    if (present.has(name)) continue;
    present.add(name);
    const value = declared.get(name);
    outputs.push(value ? makeValueInfo(name, valueDtype(value), valueShape(value)) : new onnx.ValueInfoProto({ name }));
  }
  return withGraph(model, { output: outputs, ...withoutUnusedNodes({ ...graph, output: outputs }) });
}

/**
 * Returns the graph's nodes and initializers without those that no graph output depends on. onnxruntime runs
 * every node of a graph, whether or not its outputs are used (checked with onnxruntime-node 1.31), and removes
 * only unused initializers. So a model whose own outputs were replaced would still compute them: DeepLabV3 with
 * its 33 × 33 logits bound to the head kept upsampling and transposing the 257 × 257 logits it no longer returns.
 * Names that a subgraph (If, Loop, Scan) reads from the outer scope count as used. Initializers that are also
 * graph inputs stay, since a caller may feed them.
 */
export function withoutUnusedNodes(graph: onnx.IGraphProto): { node: onnx.INodeProto[]; initializer: onnx.ITensorProto[] } {
  const nodes = graph.node ?? [];
  const producer = new Map<string, number>();
  nodes.forEach((node, i) => { for (const output of node.output ?? []) if (output) producer.set(output, i); });
  const used = new Set<string>();
  const keptNodes = new Set<number>();
  const pending = (graph.output ?? []).map((o) => o.name ?? '');
  const need = (name: string) => {
    if (!name || used.has(name)) return;
    used.add(name);
    pending.push(name);
  };
  for (const name of [...pending]) used.add(name);
  while (pending.length > 0) {
    const i = producer.get(pending.pop() as string);
    if (i === undefined || keptNodes.has(i)) continue;
    keptNodes.add(i);
    for (const input of nodes[i].input ?? []) need(input);
    for (const name of subgraphReads(nodes[i])) need(name);
  }
  // A node without outputs cannot feed anything, but nothing is gained by guessing why it is there.
  const node = nodes.filter((n, i) => keptNodes.has(i) || (n.output ?? []).every((o) => !o));
  const inputs = new Set((graph.input ?? []).map((v) => v.name ?? ''));
  const initializer = (graph.initializer ?? []).filter((t) => used.has(t.name ?? '') || inputs.has(t.name ?? ''));
  return { node, initializer };
}

/** Collects the tensor names read inside the node's subgraph attributes, at any depth, outer-scope reads included. */
function subgraphReads(node: onnx.INodeProto): string[] {
  const names: string[] = [];
  const visit = (g: onnx.IGraphProto) => {
    for (const inner of g.node ?? []) {
      names.push(...(inner.input ?? []));
      for (const a of inner.attribute ?? []) {
        if (a.g) visit(a.g);
        for (const sub of a.graphs ?? []) visit(sub);
      }
    }
  };
  for (const a of node.attribute ?? []) {
    if (a.g) visit(a.g);
    for (const sub of a.graphs ?? []) visit(sub);
  }
  return names;
}

/** Source of one head input: a model tensor and its layout. */
export interface HeadBinding {
  /** Model tensor name. */
  tensor: string;
  /** Layout of that model tensor; NHWC gets a Transpose to NCHW in front of the head, which expects NCHW. */
  layout: Layout;
}

export interface MergeOptions {
  /** Prepended to every head node, initializer and tensor name, so that nothing collides with model names. */
  prefix: string;
  /** Model tensors that stay graph outputs besides the head's (for example the logits for the prediction map). */
  keepOutputs?: readonly string[];
  /** Head inputs fed by the caller rather than by a model tensor; each becomes a graph input named with the prefix. */
  externalInputs?: readonly string[];
}

/** Result of merging: the model, and how each returned name maps to a graph output. */
export interface MergedModel {
  model: onnx.ModelProto;
  /** Head output name → graph output name (prefixed). */
  headOutputs: Record<string, string>;
}

/**
 * Merges `head` after `model`: each head input is wired to its bound model tensor (through a Transpose for
 * NHWC tensors), every head name gets `options.prefix`, and the graph outputs become the head outputs plus
 * `keepOutputs`. The older of the two graphs is raised to the other's default opset (opset.ts). Call
 * mergeBlocker first, since this function throws when the raise is unsafe. Other domains are united; a domain both import at different versions throws.
 */
export function mergeHead(model: onnx.IModelProto, head: onnx.IModelProto, bindings: Record<string, HeadBinding>, options: MergeOptions, ranks?: Map<string, number>): MergedModel {
  const target = Math.max(defaultOpset(model), defaultOpset(head));
  model = upgradeOpset(model, target, ranks);
  head = upgradeOpset(head, target);

  const graph = model.graph ?? {};
  const headGraph = head.graph ?? {};
  const known = tensorNames(graph);
  const p = (name: string) => (name ? `${options.prefix}${name}` : name);

  const nodes: onnx.INodeProto[] = [...(graph.node ?? [])];
  const headInputs = (headGraph.input ?? []).map((v) => v.name ?? '').filter((n) => !initializerNames(headGraph).has(n));
  const external = new Set(options.externalInputs ?? []);
  for (const input of headInputs) {
    if (external.has(input)) continue;
    const binding = bindings[input];
    if (!binding) throw new HeatError(`Head input "${input}" has no binding to a model tensor.`);
    if (!known.has(binding.tensor)) throw new HeatError(`Tensor "${binding.tensor}" bound to head input "${input}" does not exist in the model.`, 'Run "heat-lens inspect MODEL.onnx" to list the tensor names.', binding.tensor);
    const source = binding.tensor;
    // The head's input name becomes the (prefixed) output of an Identity or Transpose fed by the model tensor.
    nodes.push(binding.layout === 'NHWC'
      ? new onnx.NodeProto({ opType: 'Transpose', name: p(`${input}/to_nchw`), input: [source], output: [p(input)], attribute: [{ name: 'perm', type: onnx.AttributeProto.AttributeType.INTS, ints: [0, 3, 1, 2] }] })
      : new onnx.NodeProto({ opType: 'Identity', name: p(`${input}/bind`), input: [source], output: [p(input)] }));
  }
  for (const node of headGraph.node ?? []) {
    nodes.push(new onnx.NodeProto({ ...node, name: p(node.name ?? ''), input: (node.input ?? []).map(p), output: (node.output ?? []).map(p) }));
  }

  const initializers = [...(graph.initializer ?? []), ...(headGraph.initializer ?? []).map((t) => new onnx.TensorProto({ ...t, name: p(t.name ?? '') }))];
  // The head's input declarations (NCHW, rank 4) stay on the bound tensors, so that shape inference knows their
  // rank even where the model declares nothing: a head's Shape(start=2) of a tensor of unknown rank comes out empty.
  const headInputInfo = (headGraph.input ?? []).filter((v) => headInputs.includes(v.name ?? '') && !external.has(v.name ?? ''));
  const graphInputs = [...(graph.input ?? []), ...(headGraph.input ?? []).filter((v) => external.has(v.name ?? '')).map((v) => new onnx.ValueInfoProto({ ...v, name: p(v.name ?? '') }))];
  const valueInfo = [...(graph.valueInfo ?? []), ...[...headInputInfo, ...(headGraph.valueInfo ?? [])].map((v) => new onnx.ValueInfoProto({ ...v, name: p(v.name ?? '') }))];
  const headNames = [...initializers.slice((graph.initializer ?? []).length).map((t) => t.name ?? ''), ...nodes.slice((graph.node ?? []).length).flatMap((n) => n.output ?? [])];
  const collision = headNames.find((name) => name && known.has(name));
  if (collision) throw new Error(`Head prefix "${options.prefix}" collides with model tensor "${collision}".`);

  const headOutputs: Record<string, string> = {};
  const outputs: onnx.IValueInfoProto[] = [];
  for (const output of headGraph.output ?? []) {
    headOutputs[output.name ?? ''] = p(output.name ?? '');
    outputs.push(new onnx.ValueInfoProto({ ...output, name: p(output.name ?? '') }));
  }
  const declared = declaredValues(graph);
  for (const name of options.keepOutputs ?? []) {
    if (!known.has(name)) throw new HeatError(`Tensor "${name}" does not exist in the model.`, 'Run "heat-lens inspect MODEL.onnx" to list the tensor names.', name);
    const value = declared.get(name);
    outputs.push(value ? makeValueInfo(name, valueDtype(value), valueShape(value)) : new onnx.ValueInfoProto({ name }));
  }

  const merged = new onnx.ModelProto({
    ...model,
    irVersion: Math.max(toNumber(model.irVersion), toNumber(head.irVersion)),
    opsetImport: mergeOpsets(model.opsetImport ?? [], head.opsetImport ?? []),
    graph: new onnx.GraphProto({
      ...graph, input: graphInputs, valueInfo, output: outputs,
      ...withoutUnusedNodes({ node: nodes, initializer: initializers, input: graphInputs, output: outputs }),
    }),
  });
  return { model: merged, headOutputs };
}

function mergeOpsets(model: onnx.IOperatorSetIdProto[], head: onnx.IOperatorSetIdProto[]): onnx.OperatorSetIdProto[] {
  const key = (domain: string | null | undefined) => (!domain || domain === 'ai.onnx' ? '' : domain);
  const versions = new Map<string, number>();
  for (const entry of model) versions.set(key(entry.domain), toNumber(entry.version));
  for (const entry of head) {
    const domain = key(entry.domain);
    const version = toNumber(entry.version);
    const existing = versions.get(domain);
    if (domain !== '' && existing !== undefined && existing !== version) {
      throw new Error(`Model and head import domain "${domain}" at different versions (${existing} and ${version}).`);
    }
    versions.set(domain, Math.max(existing ?? 0, version));
  }
  return [...versions].map(([domain, version]) => new onnx.OperatorSetIdProto({ domain, version }));
}
