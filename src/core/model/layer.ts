/**
 * Feature-layer resolution. A layer is given as an exact tensor name, or as a PyTorch module path such as
 * "layer3" or "backbone.layer3". torch.onnx names nodes after the module that ran them:
 * "/backbone/layer3/layer3.1/relu/Relu", where a child of a Sequential repeats its parent's name
 * ("layer3.1"). A module path resolves to the last tensor (in graph order) that the module hands to the
 * rest of the network, which is what the module's forward() returned.
 */
import { editDistance } from '../config';
import { HeatError } from '../errors';
import { feedInputs, initializerNames, onnx } from './onnx';

export interface ResolvedLayer {
  tensor: string;
  /** Producing node and op; empty for a graph input. */
  node: string;
  op: string;
  /** Module path matched, for a module-path spec. */
  module?: string;
  how: 'tensor' | 'module';
}

/** Module path of the scope a node name lies in: "/backbone/layer3/layer3.1/relu/Relu" → "backbone.layer3.1.relu". */
export function moduleOfNode(nodeName: string): string | undefined {
  if (!nodeName.startsWith('/')) return undefined;
  const segments = nodeName.slice(1).split('/').slice(0, -1);
  if (segments.length === 0) return undefined;
  const parts: string[] = [];
  let previous = '';
  for (const segment of segments) {
    // torch writes a Sequential child as "<parent>.<index>"; the module path only adds "<index>".
    parts.push(previous && segment.startsWith(`${previous}.`) ? segment.slice(previous.length + 1) : segment);
    previous = segment;
  }
  return parts.join('.');
}

/** Lists every module path with at least one node, including ancestors ("backbone", "backbone.layer3", …). */
export function modulePaths(model: onnx.IModelProto): string[] {
  const paths = new Set<string>();
  for (const node of model.graph?.node ?? []) {
    const module = moduleOfNode(node.name ?? '');
    if (!module) continue;
    // Ancestors are prefixes at segment boundaries of the torch scope, not of the dotted path ("layer3.1" is one module).
    const segments = (node.name ?? '').slice(1).split('/').slice(0, -1);
    for (let i = 1; i <= segments.length; i++) {
      const scope = `/${segments.slice(0, i).join('/')}/x`;
      paths.add(moduleOfNode(scope)!);
    }
  }
  return [...paths];
}

function isInModule(module: string | undefined, path: string): boolean {
  return module !== undefined && (module === path || module.startsWith(`${path}.`));
}

/**
 * Resolves `spec` to a tensor. An exact tensor name wins; otherwise a module path matches modules whose path
 * equals it or ends with ".spec" (so "layer3" finds "backbone.layer3"). Several matching modules, or none,
 * raise a HeatError listing the candidates.
 */
export function resolveLayer(model: onnx.IModelProto, spec: string): ResolvedLayer {
  const graph = model.graph ?? {};
  const nodes = graph.node ?? [];
  const trimmed = spec.trim();
  if (feedInputs(graph).some((v) => v.name === trimmed)) return { tensor: trimmed, node: '', op: '', how: 'tensor' };
  for (const node of nodes) {
    if ((node.output ?? []).includes(trimmed)) return { tensor: trimmed, node: node.name ?? '', op: node.opType ?? '', how: 'tensor' };
  }

  const modules = modulePaths(model);
  const wanted = trimmed.replace(/^\/+|\/+$/g, '').replace(/\//g, '.');
  const exact = modules.filter((m) => m === wanted);
  const matches = exact.length > 0 ? exact : modules.filter((m) => m.endsWith(`.${wanted}`));
  if (matches.length > 1) {
    throw new HeatError(`Feature layer "${spec}" matches ${matches.length} modules: ${matches.slice(0, 8).join(', ')}.`,
      'Set heat.model.featureLayer to the full module path.', 'heat.model.featureLayer');
  }
  if (matches.length === 0 || wanted === '') {
    throw new HeatError(`Feature layer "${spec}" is neither a tensor nor a module of the model. Closest: ${closestNames(model, trimmed, modules).join(', ')}.`,
      'Set heat.model.featureLayer to one of these, or run "heat-lens inspect MODEL.onnx" for every tensor name.', 'heat.model.featureLayer');
  }
  return lastTensorOfModule(model, matches[0]);
}

/** Finds the last tensor in graph order that the module's nodes produce and a node outside the module reads. */
function lastTensorOfModule(model: onnx.IModelProto, module: string): ResolvedLayer {
  const graph = model.graph ?? {};
  const nodes = graph.node ?? [];
  const inside = nodes.map((n) => isInModule(moduleOfNode(n.name ?? ''), module));
  const readOutside = new Set<string>((graph.output ?? []).map((o) => o.name ?? ''));
  nodes.forEach((node, i) => { if (!inside[i]) for (const input of node.input ?? []) readOutside.add(input); });

  let fallback: ResolvedLayer | undefined;
  for (let i = nodes.length - 1; i >= 0; i--) {
    if (!inside[i]) continue;
    const node = nodes[i];
    const result = (tensor: string): ResolvedLayer => ({ tensor, node: node.name ?? '', op: node.opType ?? '', module, how: 'module' });
    const leaving = (node.output ?? []).find((o) => o && readOutside.has(o));
    if (leaving) return result(leaving);
    if (!fallback && node.opType !== 'Constant' && node.output?.[0]) fallback = result(node.output[0]);
  }
  if (fallback) return fallback;
  throw new HeatError(`Module "${module}" produces no tensor.`, 'Set heat.model.featureLayer to a tensor name.', 'heat.model.featureLayer');
}

/** Up to `limit` module paths and tensor names nearest to `spec`: substring matches first, then by edit distance. */
export function closestNames(model: onnx.IModelProto, spec: string, modules = modulePaths(model), limit = 6): string[] {
  const inits = initializerNames(model.graph ?? {});
  const tensors = (model.graph?.node ?? []).flatMap((n) => n.output ?? []).filter((n) => n && !inits.has(n));
  const needle = spec.toLowerCase();
  const scored = [...new Set([...modules, ...tensors])].map((name) => {
    const lower = name.toLowerCase();
    const contains = lower.includes(needle) || (needle.length > 0 && needle.includes(lower));
    // Compare with every trailing part too, so "layr3" ranks "backbone.layer3" (via "layer3") above "head".
    const parts = lower.split(/[./]/);
    let distance = editDistance(needle, lower);
    for (let i = 1; i < parts.length; i++) distance = Math.min(distance, editDistance(needle, parts.slice(i).join('.')) + 1);
    return { name, score: (contains ? 0 : 1000) + distance };
  });
  scored.sort((a, b) => a.score - b.score || a.name.length - b.name.length);
  return scored.slice(0, limit).map((s) => s.name);
}

/**
 * Resolves the logits tensor: heat.model.logitsTensor when set (an exact tensor name), else the model's first
 * output. An unknown name raises a HeatError listing the model's outputs and the closest tensor names.
 */
export function resolveLogits(model: onnx.IModelProto, setting: string): string {
  const outputs = (model.graph?.output ?? []).map((o) => o.name ?? '');
  const name = setting.trim();
  if (name === '') {
    if (outputs.length === 0) throw new HeatError('The model has no outputs.', 'Export the model with its logits as an output.');
    return outputs[0];
  }
  const produced = (model.graph?.node ?? []).some((n) => (n.output ?? []).includes(name));
  if (produced || outputs.includes(name)) return name;
  throw new HeatError(`Logits tensor "${name}" does not exist in the model. Outputs: ${outputs.join(', ')}. Closest: ${closestNames(model, name, []).join(', ')}.`,
    'Set heat.model.logitsTensor to one of these, or leave it empty for the first output.', 'heat.model.logitsTensor');
}
