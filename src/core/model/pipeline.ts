/**
 * The scoring pipeline: the model followed by a HEAT head graph, behind one run() call.
 *
 * - merged: the head is merged into the model graph (edit.ts), so one session.run on the chosen provider
 *   returns only the head's maps and the kept model tensors.
 * - two-session: for models whose default opset cannot be raised to the head's (an op changed meaning and
 *   opset.ts has no rewrite for it, such as Slice before opset 10), the first session runs the model with the
 *   bound tensors as outputs and the second runs the head on them. The bound tensors cross into JavaScript
 *   once. NHWC ones are transposed by a Transpose node inside the second session, so the host never
 *   rearranges them.
 */
import * as ort from 'onnxruntime-node';
import { HeatError } from '../errors';
import { silentLogger, type Logger } from '../log';
import { addOutputs, mergeHead, type HeadBinding } from './edit';
import { mergeBlocker, softmaxInputs } from './opset';
import { modelFromBytes, type LoadedModel } from './load';
import { defaultOpset, encodeModel, onnx } from './onnx';
import { createSession, type ProviderName, type ProviderSetting } from './session';
import { listTensors, ranksOf } from './tensors';

export interface PipelineOptions {
  provider?: ProviderSetting;
  log?: Logger;
  /** Prefix for head names in the merged graph; default "heat/". */
  prefix?: string;
  /** Model tensors returned by run() besides the head outputs, under their own names (for example the logits). */
  keepOutputs?: readonly string[];
  /** Run the head as a second session even when merging is possible (used to compare both paths). */
  forceTwoSession?: boolean;
  /** Tensor name → rank (ranksOf(listTensors(...))), so that a Softmax on the last axis does not block merging; measured when absent. */
  ranks?: Map<string, number>;
}

type ModelSource = LoadedModel | onnx.IModelProto | Uint8Array;

export class ScoringPipeline {
  private constructor(
    readonly mode: 'merged' | 'two-session',
    readonly executionProvider: ProviderName,
    /** Reason the two-session path was taken; empty for merged. */
    readonly reason: string,
    private readonly first: ort.InferenceSession,
    private readonly second: ort.InferenceSession | undefined,
    /** Returned name → name of the output in the session that produces it. */
    private readonly outputNames: Record<string, string>,
    /** Head input name → model tensor, for the two-session path. */
    private readonly headFeeds: Record<string, string>,
  ) {}

  /**
   * Builds the sessions. `bindings` maps every head input to a model tensor and its layout. Returned maps
   * are keyed by the head's output names and, for keepOutputs, by the model tensor names.
   */
  static async create(source: ModelSource, head: onnx.IModelProto, bindings: Record<string, HeadBinding>, options: PipelineOptions = {}): Promise<ScoringPipeline> {
    const log = options.log ?? silentLogger;
    const provider = options.provider ?? 'auto';
    const model = toProto(source);
    const keep = [...(options.keepOutputs ?? [])];
    bindings = bindingsForHead(head, bindings);
    let ranks = options.ranks;
    let blocker = options.forceTwoSession ? 'two sessions were requested' : mergeBlocker(model, head, ranks);
    if (blocker && !ranks && !options.forceTwoSession && softmaxInputs(model).length > 0) {
      // A Softmax may block only for want of its input's rank: measure those ranks with one probe run and ask again.
      ranks = ranksOf(await listTensors(toLoaded(source, model), { measure: softmaxInputs(model) }));
      blocker = mergeBlocker(model, head, ranks);
    }

    if (!blocker) {
      const merged = mergeHead(model, head, bindings, { prefix: options.prefix ?? 'heat/', keepOutputs: keep }, ranks);
      try {
        const { session, provider: used } = await createSession(encodeModel(merged.model), provider, log, 'scoring graph');
        const names: Record<string, string> = { ...merged.headOutputs };
        for (const name of keep) names[name] = name;
        log.debug(`HEAT head merged into the model (opsets ${defaultOpset(model)} and ${defaultOpset(head)}).`);
        return new ScoringPipeline('merged', used, '', session, undefined, names, {});
      } catch (error) {
        // An op the relabelling table does not know can still reject the raised opset; two sessions always work.
        blocker = `onnxruntime rejected the merged graph (${(error as Error).message.split('\n')[0]})`;
      }
    }

    // The first session runs the model and returns only the tensors the head reads and the ones kept.
    const bound = Object.values(bindings).map((b) => b.tensor);
    const firstModel = addOutputs(model, [...new Set([...bound, ...keep])], false);
    const first = await createSession(encodeModel(firstModel), provider, log, 'model');
    // The second session runs the head, with a Transpose in front of each NHWC input, on the same provider.
    const second = await createSession(encodeModel(withNchwInputs(head, bindings)), first.provider, silentLogger, 'HEAT head');
    const names: Record<string, string> = {};
    for (const output of head.graph?.output ?? []) names[output.name ?? ''] = output.name ?? '';
    for (const name of keep) names[name] = name;
    const feeds: Record<string, string> = {};
    for (const [input, binding] of Object.entries(bindings)) feeds[input] = binding.tensor;
    log.info(`HEAT head runs as a second session: ${blocker}.`);
    return new ScoringPipeline('two-session', first.provider, blocker, first.session, second.session, names, feeds);
  }

  /** Names of the model's feed inputs. */
  get inputNames(): readonly string[] {
    return this.first.inputNames;
  }

  /** Runs the model and the head on `feeds` (model input name → tensor). */
  async run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
    const wanted = Object.entries(this.outputNames);
    if (!this.second) {
      const out = await this.first.run(feeds, wanted.map(([, graphName]) => graphName));
      return Object.fromEntries(wanted.map(([name, graphName]) => [name, out[graphName]]));
    }

    const firstOut = await this.first.run(feeds);
    const headFeeds: Record<string, ort.Tensor> = {};
    for (const [input, tensor] of Object.entries(this.headFeeds)) headFeeds[input] = firstOut[tensor];
    const headNames = this.second.outputNames;
    const secondOut = await this.second.run(headFeeds);
    const result: Record<string, ort.Tensor> = {};
    for (const [name] of wanted) result[name] = headNames.includes(name) ? secondOut[name] : firstOut[name];
    return result;
  }

  async release(): Promise<void> {
    await this.first.release();
    await this.second?.release();
  }
}

/** Keeps the bindings of the head's inputs (a head without Mahalanobis has no `features`) and checks none is missing. */
function bindingsForHead(head: onnx.IModelProto, bindings: Record<string, HeadBinding>): Record<string, HeadBinding> {
  const initializers = new Set((head.graph?.initializer ?? []).map((t) => t.name));
  const inputs = (head.graph?.input ?? []).map((v) => v.name ?? '').filter((name) => !initializers.has(name));
  const kept: Record<string, HeadBinding> = {};
  for (const input of inputs) {
    if (!bindings[input]) throw new HeatError(`Head input "${input}" has no binding to a model tensor.`, 'Bind every head input to a model tensor.');
    kept[input] = bindings[input];
  }
  return kept;
}

function toLoaded(source: ModelSource, proto: onnx.IModelProto): LoadedModel {
  if (source instanceof Uint8Array) return modelFromBytes(source);
  if ('proto' in source && 'sha256' in source) return source as LoadedModel;
  return modelFromBytes(encodeModel(proto));
}

function toProto(source: ModelSource): onnx.IModelProto {
  if (source instanceof Uint8Array) return modelFromBytes(source).proto;
  if ('proto' in source && 'sha256' in source) return source.proto;
  return source as onnx.IModelProto;
}

/**
 * Returns the head with a Transpose [0, 3, 1, 2] inserted after each input bound to an NHWC tensor. The graph input
 * keeps its name and takes the NHWC tensor; the head's nodes read the transposed copy.
 */
function withNchwInputs(head: onnx.IModelProto, bindings: Record<string, HeadBinding>): onnx.IModelProto {
  const graph = head.graph ?? {};
  const transposed = Object.keys(bindings).filter((input) => bindings[input].layout === 'NHWC');
  if (transposed.length === 0) return head;
  const rename = (name: string) => (transposed.includes(name) ? `${name}/nchw` : name);
  const inits = new Set((graph.initializer ?? []).map((t) => t.name));
  const transposes = transposed.map((input) => new onnx.NodeProto({
    opType: 'Transpose', name: `${input}/to_nchw`, input: [input], output: [`${input}/nchw`],
    attribute: [{ name: 'perm', type: onnx.AttributeProto.AttributeType.INTS, ints: [0, 3, 1, 2] }],
  }));
  const nodes = (graph.node ?? []).map((n) => new onnx.NodeProto({ ...n, input: (n.input ?? []).map(rename) }));
  // The NHWC input's declared NCHW shape no longer holds, so it is declared as rank 4 with symbolic sizes.
  // The rank must stay known: onnxruntime's shape inference takes Shape(start=2) of a tensor of unknown rank
  // as empty, which breaks the Resize that upsamples Mahalanobis to the logits' size.
  const nhwc = (name: string) => ['N', 'H', 'W', 'C'].map((d) => ({ dimParam: `${name}_${d}` }));
  const inputs = (graph.input ?? []).map((v) => (transposed.includes(v.name ?? '') && !inits.has(v.name)
    ? new onnx.ValueInfoProto({ name: v.name, type: { tensorType: { elemType: v.type?.tensorType?.elemType, shape: { dim: nhwc(v.name ?? '') } } } })
    : v));
  return new onnx.ModelProto({ ...head, graph: new onnx.GraphProto({ ...graph, node: [...transposes, ...nodes], input: inputs }) });
}

