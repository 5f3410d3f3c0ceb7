/**
 * The sweep's scoring session: the user's model once, with every feature layer a grid needs exposed, followed
 * by one head graph per layer. Each per-layer head (from buildHeatHeads) holds all of that layer's variants.
 * The heads are united into one graph whose names carry a group prefix "g<k>/". Each group reads the shared
 * `logits` input and its own `g<k>/features` input. ScoringPipeline then merges that graph into the model, so
 * one session.run per image is one model forward pass however many layers and variants the grid holds.
 */
import type { TensorInfo } from '../api';
import { get, type HeatConfig } from '../config';
import { HeatError } from '../errors';
import {
  buildHeatHeads, FEATURES_INPUT, LOGITS_INPUT, type HeatHeadVariant, type HeatOutputName,
} from '../heat';
import type { VariantSettings } from '../pipeline/session';
import { silentLogger, type Logger } from '../log';
import {
  checkedTensorLayout, decodeImage, listTensors, inputSpatialSize, loadConfiguredModel, measuredFloatShape, onnx, preprocess, preprocessSettings, resolveLayer,
  ScoringPipeline, type HeadBinding, type LayoutSetting, type LoadedModel, type PreprocessSettings, type ProviderSetting, type RgbImage,
} from '../model';
import { checkFiniteEnergy } from '../pipeline/finite';
import type { ExpectedStatistics } from '../stats/file';
import type { ClassStatistics } from '../stats/types';
import type { Layout } from '../tensor';

/** One head variant of a group: its suffix and head options. */
export interface GroupVariant {
  suffix: string;
  settings: VariantSettings;
}

/** The variants that read one feature layer. */
export interface LayerGroup {
  layer: string;
  /** Whether some variant of this layer combines Mahalanobis (so features and statistics are needed). */
  needsFeatures: boolean;
  /** Whether some variant of this layer uses class-wise covariances (statistics files need them finalised). */
  needsClasswise: boolean;
  variants: GroupVariant[];
}

/** A feature layer whose statistics the sweep needs, with what a statistics file must match. */
export interface StatisticsRequest {
  layer: string;
  expected: ExpectedStatistics & { featureTensor: string };
  needsClasswise: boolean;
}

/**
 * Finds (loads or computes) the statistics of every requested layer at once, so the missing ones can share
 * one pass over the training split. A layer left out of the returned map has no statistics: Mahalanobis is
 * left out there.
 */
export type StatisticsSource = (requests: StatisticsRequest[]) => Promise<Map<string, ClassStatistics>>;

export interface SweepSessionOptions {
  groups: LayerGroup[];
  statistics: StatisticsSource;
  log?: Logger;
}

/** Maps of one image at logits resolution, keyed by "g<k>/<head output name>". */
export interface SweepImageRun {
  image: RgbImage;
  maps: Map<string, Float32Array>;
  height: number;
  width: number;
}

/** Outputs each variant returns: its components, weights and reliability HEAT. */
const VARIANT_OUTPUTS: HeatOutputName[] = ['energy', 'mahalanobis', 'spatial', 'weight_energy', 'weight_mahalanobis', 'weight_spatial', 'heat'];

export class SweepSession {
  /** Model forward passes run so far (one per runImage). */
  forwardPasses = 0;

  private constructor(
    readonly model: LoadedModel,
    private readonly pipeline: ScoringPipeline,
    private readonly input: TensorInfo,
    private readonly preprocessing: PreprocessSettings,
    readonly classCount: number,
    /** Statistics per layer (absent where Mahalanobis is not combined). */
    readonly statistics: Map<string, ClassStatistics>,
    /** Feature tensor per layer. */
    readonly featureTensors: Map<string, string>,
    /** Per group index: the components each variant actually combines, by suffix. */
    readonly components: Map<string, string[]>[],
    private readonly log: Logger,
    private readonly logitsTensor: string,
  ) {}

  get executionProvider(): string {
    return this.pipeline.executionProvider;
  }

  static async open(config: HeatConfig, options: SweepSessionOptions): Promise<SweepSession> {
    const log = options.log ?? silentLogger;
    const { model, logitsTensor } = await loadConfiguredModel(config);

    const featureTensors = new Map<string, string>();
    for (const group of options.groups) {
      if (group.needsFeatures) featureTensors.set(group.layer, resolveLayer(model.proto, group.layer).tensor);
    }

    // One probe run measures the logits and every feature shape the layouts are detected from.
    const inspection = await listTensors(model, { measure: [logitsTensor, ...new Set(featureTensors.values())], log });
    const all = [...inspection.outputs, ...inspection.intermediates];
    const shapeOf = (name: string) => measuredFloatShape(all, name, model.path, name === logitsTensor ? 'heat.model.logitsTensor' : 'the feature layers of the sweep');
    const probeSize = inputSpatialSize(inspection.inputs[0]);
    const classNames = get<string[]>(config, 'heat.model.classNames');
    const logitsShape = shapeOf(logitsTensor);
    const logitsLayout = checkedTensorLayout(logitsShape, { channels: classNames.length || undefined, inputSize: probeSize },
      get<LayoutSetting>(config, 'heat.model.logitsLayout'), 'logits', 'heat.model.logitsLayout', log);
    const classCount = Number(logitsLayout === 'NCHW' ? logitsShape[1] : logitsShape[3]);

    // Every layer's statistics are requested together, so the missing ones are computed in one training pass.
    const featureLayouts = new Map<string, Layout>();
    const requests = new Map<string, StatisticsRequest>();
    for (const group of options.groups) {
      const featureTensor = featureTensors.get(group.layer);
      if (!featureTensor) continue;
      const shape = shapeOf(featureTensor);
      const layout: Layout = checkedTensorLayout(shape, { inputSize: probeSize },
        get<LayoutSetting>(config, 'heat.model.featureLayout'), `feature tensor "${featureTensor}"`, 'heat.model.featureLayout', log);
      featureLayouts.set(group.layer, layout);
      const dim = Number(layout === 'NCHW' ? shape[1] : shape[3]);
      const known = requests.get(group.layer);
      if (known) known.needsClasswise ||= group.needsClasswise;
      else requests.set(group.layer, { layer: group.layer, expected: { modelSha256: model.sha256, featureTensor, dim, classCount }, needsClasswise: group.needsClasswise });
    }
    const statistics = requests.size > 0 ? await options.statistics([...requests.values()]) : new Map<string, ClassStatistics>();

    const bindings: Record<string, HeadBinding> = { [LOGITS_INPUT]: { tensor: logitsTensor, layout: logitsLayout } };
    const heads: onnx.IModelProto[] = [];
    const components: Map<string, string[]>[] = [];
    for (let k = 0; k < options.groups.length; k++) {
      const group = options.groups[k];
      const featureTensor = featureTensors.get(group.layer);
      const stats = featureTensor ? statistics.get(group.layer) : undefined;
      if (featureTensor && stats) bindings[`g${k}/${FEATURES_INPUT}`] = { tensor: featureTensor, layout: featureLayouts.get(group.layer)! };
      const variants: HeatHeadVariant[] = group.variants.map((v) => ({
        ...v.settings, combination: 'reliability', standardization: undefined, suffix: v.suffix, statistics: stats, classCount, outputs: VARIANT_OUTPUTS,
      }));
      const head = buildHeatHeads(variants);
      heads.push(head.model);
      components.push(new Map(head.variants.map((v) => [v.suffix, v.components])));
    }

    const united = uniteHeads(heads);
    const ranks = new Map(all.filter((t) => t.shape).map((t) => [t.name, (t.shape as unknown[]).length]));
    const pipeline = await ScoringPipeline.create(model, united, bindings, { provider: get<ProviderSetting>(config, 'heat.executionProvider'), log, ranks });
    log.info(`Sweep scoring ${model.path} on ${pipeline.executionProvider} (${pipeline.mode}); ${options.groups.length} feature layer group(s), `
      + `${options.groups.reduce((n, g) => n + g.variants.length, 0)} head variant(s), one forward pass per image.`);
    return new SweepSession(model, pipeline, inspection.inputs[0], preprocessSettings(config), classCount, statistics, featureTensors, components, log, logitsTensor);
  }

  /** Decodes, preprocesses and scores one image with one forward pass. */
  async runImage(file: string): Promise<SweepImageRun> {
    const image = await decodeImage(file, this.log);
    const prepared = await preprocess(image, this.preprocessing, this.input);
    this.forwardPasses++;
    const out = await this.pipeline.run({ [this.input.name]: prepared.tensor });
    const maps = new Map<string, Float32Array>();
    let height = 0;
    let width = 0;
    for (const [name, tensor] of Object.entries(out)) {
      maps.set(name, tensor.data as Float32Array);
      height = Number(tensor.dims[tensor.dims.length - 2]);
      width = Number(tensor.dims[tensor.dims.length - 1]);
    }
    checkFiniteEnergy(maps, file, this.logitsTensor);
    return { image, maps, height, width };
  }

  async release(): Promise<void> {
    await this.pipeline.release();
  }
}

/**
 * Unites head graphs into one: every name of head k gets the prefix "g<k>/", except the shared `logits` input;
 * head k's `features` input becomes "g<k>/features". All heads are built at the same opset and IR version.
 */
export function uniteHeads(heads: onnx.IModelProto[]): onnx.ModelProto {
  const nodes: onnx.INodeProto[] = [];
  const initializers: onnx.ITensorProto[] = [];
  const valueInfo: onnx.IValueInfoProto[] = [];
  const inputs: onnx.IValueInfoProto[] = [];
  const outputs: onnx.IValueInfoProto[] = [];
  heads.forEach((head, k) => {
    const graph = head.graph ?? {};
    const p = (name: string | null | undefined): string => {
      if (!name) return '';
      return name === LOGITS_INPUT ? name : `g${k}/${name}`;
    };
    for (const node of graph.node ?? []) {
      nodes.push(new onnx.NodeProto({ ...node, name: p(node.name), input: (node.input ?? []).map(p), output: (node.output ?? []).map(p) }));
    }
    for (const t of graph.initializer ?? []) initializers.push(new onnx.TensorProto({ ...t, name: p(t.name) }));
    for (const v of graph.valueInfo ?? []) valueInfo.push(new onnx.ValueInfoProto({ ...v, name: p(v.name) }));
    for (const v of graph.input ?? []) {
      if (v.name === LOGITS_INPUT && inputs.some((i) => i.name === LOGITS_INPUT)) continue;
      inputs.push(new onnx.ValueInfoProto({ ...v, name: p(v.name) }));
    }
    for (const v of graph.output ?? []) outputs.push(new onnx.ValueInfoProto({ ...v, name: p(v.name) }));
  });
  const first = heads[0];
  return new onnx.ModelProto({
    ...first,
    graph: new onnx.GraphProto({ ...(first.graph ?? {}), name: 'heat_sweep_heads', node: nodes, initializer: initializers, valueInfo, input: inputs, output: outputs }),
  });
}

