/**
 * The model as the statistics pass uses it: one session that returns one or more feature tensors and the
 * logits for an image file, so several layers' statistics cost one forward pass per image. Their layouts are
 * detected on the first run, or taken from heat.model.*Layout.
 */
import * as ort from 'onnxruntime-node';
import type { TensorInfo } from '../api';
import { get, type HeatConfig } from '../config';
import { HeatError } from '../errors';
import type { Logger } from '../log';
import {
  addOutputs, createSession, checkedTensorLayout, decodeImage, encodeModel, inputGeometry, loadConfiguredModel, mergeBlocker, mergeHead, preprocess,
  preprocessSettings, resolveLayer, type LayoutSetting, type LoadedModel, type PreprocessedImage, type PreprocessSettings, type ProviderName,
  type ProviderSetting, type ResolvedLayer, type RgbImage,
} from '../model';
import type { Layout } from '../tensor';
import type { FeatureGrid, FusedImageMoments } from './accumulator';
import { buildStatisticsHead, FUSED_ARGMAX, FUSED_LOGITS_INPUT, FUSED_MAX_LOGIT, FUSED_NON_FINITE, fusedNames } from './fused';
import { partsFor } from './scatter';

/**
 * Channel ranges of the fused head's scatter blocks: 8 from D = 1024 (36 of 64 block products, against 10 of 16
 * with 4), where the 128-channel blocks still ran at full GEMM speed (about 2 % more images/s, measured on 2 cores).
 */
function fusedParts(d: number): number {
  return d >= 1024 ? 8 : partsFor(d);
}

/** Logits of one image, batch dimension removed. */
export interface LogitsGrid {
  data: Float32Array;
  classes: number;
  height: number;
  width: number;
  /** 'NCHW': [C, h, w]; 'NHWC': [h, w, C]. */
  layout: Layout;
}

export interface ModelRun {
  /** Features of the first requested layer (the only one unless several were requested). */
  features: FeatureGrid;
  /** Features of every requested layer, in the order they were requested. */
  layers: FeatureGrid[];
  logits: LogitsGrid;
  /** Size of the decoded image file, which its label must have. */
  imageWidth: number;
  imageHeight: number;
}

export class StatisticsModel {
  private readonly featureLayouts: (Layout | undefined)[];
  private logitsLayout?: Layout;
  /** Forward passes run so far (one per run()). */
  runs = 0;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly sha256: string,
    /** Feature tensor of each requested layer, in the order requested. */
    readonly featureTensors: readonly string[],
    readonly logitsTensor: string,
    readonly executionProvider: ProviderName,
    private readonly input: TensorInfo,
    readonly preprocessing: PreprocessSettings,
    private readonly layoutSettings: { features: LayoutSetting; logits: LayoutSetting },
    private readonly expectedClasses: number | undefined,
    private readonly log: Logger,
  ) {
    this.featureLayouts = featureTensors.map(() => undefined);
  }

  /** Feature tensor of the first requested layer. */
  get featureTensor(): string {
    return this.featureTensors[0];
  }

  /**
   * Opens heat.model.path with the feature layers (default: heat.model.featureLayer) and the logits as the only
   * outputs. `layers` are names as heat.model.featureLayer takes them (module or tensor names).
   */
  static async open(config: HeatConfig, log: Logger, layers?: readonly string[]): Promise<StatisticsModel> {
    const tensors = await resolveStatisticsTensors(config, layers ?? [get<string>(config, 'heat.model.featureLayer')]);
    const model = await StatisticsModel.create(config, log, tensors, 'model');
    log.info(`Statistics of ${describeTensors(tensors)}.`);
    return model;
  }

  /** Creates the session for already resolved tensors; `label` names it in the provider log line. */
  static async create(config: HeatConfig, log: Logger, tensors: StatisticsTensors, label: string): Promise<StatisticsModel> {
    const { model, input, logits, features } = tensors;
    // Two layer names may resolve to one tensor; each output is added once.
    const graph = addOutputs(model.proto, [...new Set([...features.map((f) => f.tensor), logits])], false);
    const { session, provider } = await createSession(encodeModel(graph), get<ProviderSetting>(config, 'heat.executionProvider'), log, label);
    const classNames = get<string[]>(config, 'heat.model.classNames');
    return new StatisticsModel(
      session, model.sha256, features.map((f) => f.tensor), logits, provider, input, preprocessSettings(config),
      { features: get<LayoutSetting>(config, 'heat.model.featureLayout'), logits: get<LayoutSetting>(config, 'heat.model.logitsLayout') },
      classNames.length > 0 ? classNames.length : undefined, log,
    );
  }

  /** Decodes, preprocesses and runs one image. */
  async run(imageFile: string): Promise<ModelRun> {
    return this.runImage(await decodeImage(imageFile, this.log));
  }

  /** Preprocesses and runs one decoded image. */
  async runImage(image: RgbImage): Promise<ModelRun> {
    const prepared = await preprocess(image, this.preprocessing, this.input);
    this.runs++;
    const out = await this.session.run({ [this.input.name]: prepared.tensor });
    const logitsTensor = out[this.logitsTensor];
    const inputSize: [number, number] = [prepared.height, prepared.width];
    const layers = this.featureTensors.map((name, i): FeatureGrid => {
      const tensor = out[name];
      const layout = this.featureLayouts[i] ??= checkedTensorLayout(tensor.dims, { inputSize }, this.layoutSettings.features, `feature tensor "${name}"`, 'heat.model.featureLayout', this.log);
      const features = grid(tensor, layout, name, image.source);
      return { data: features.data, channels: features.channels, height: features.height, width: features.width, layout };
    });
    this.logitsLayout ??= checkedTensorLayout(logitsTensor.dims, { channels: this.expectedClasses, inputSize }, this.layoutSettings.logits, 'logits', 'heat.model.logitsLayout', this.log);
    const logits = grid(logitsTensor, this.logitsLayout, this.logitsTensor, image.source);
    return {
      features: layers[0],
      layers,
      logits: { data: logits.data, classes: logits.channels, height: logits.height, width: logits.width, layout: this.logitsLayout },
      imageWidth: image.width,
      imageHeight: image.height,
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** The configured model with the requested feature layers resolved to tensor names. */
export interface StatisticsTensors {
  model: LoadedModel;
  /** The model's image input. */
  input: TensorInfo;
  logits: string;
  /** One per requested layer, in the order requested. */
  features: ResolvedLayer[];
}

/** Loads heat.model.path and resolves `layers` (names as heat.model.featureLayer takes them) to tensors. */
export async function resolveStatisticsTensors(config: HeatConfig, layers: readonly string[]): Promise<StatisticsTensors> {
  if (layers.length === 0) throw new Error('A statistics pass needs at least one feature layer.');
  const { model, input, logitsTensor } = await loadConfiguredModel(config);
  return { model, input, logits: logitsTensor, features: layers.map((layer) => resolveLayer(model.proto, layer)) };
}

/** Describes the feature tensors (with their module paths) and the logits for the log. */
function describeTensors({ features, logits }: StatisticsTensors): string {
  const described = features.map((f) => `"${f.tensor}"${f.how === 'module' ? ` (module ${f.module})` : ''}`).join(', ');
  return `feature tensor${features.length > 1 ? 's' : ''} ${described}, logits "${logits}"`;
}

/** Returns the data of a [1, C, h, w] or [1, h, w, C] float32 tensor with its sizes (onnxruntime-node hands over a JavaScript-owned array). */
function grid(tensor: ort.Tensor, layout: Layout, name: string, image: string): { data: Float32Array; channels: number; height: number; width: number } {
  if (tensor.type !== 'float32') {
    throw new HeatError(`Tensor "${name}" is ${tensor.type} for image ${image}; statistics need float32.`, 'Choose a float32 tensor (heat.model.featureLayer, heat.model.logitsTensor).', name);
  }
  const dims = tensor.dims;
  if (dims.length !== 4 || dims[0] !== 1) {
    throw new HeatError(`Tensor "${name}" has shape [${dims.join(', ')}] for image ${image}; statistics need [1, C, H, W] or [1, H, W, C].`,
      'Choose a rank-4 tensor with batch size 1 (heat.model.featureLayer, heat.model.logitsTensor).', name);
  }
  const [channels, height, width] = layout === 'NCHW' ? [dims[1], dims[2], dims[3]] : [dims[3], dims[1], dims[2]];
  return { data: tensor.data as Float32Array, channels, height, width };
}

/** Prefix of the statistics head's names inside the merged graph. */
const FUSED_PREFIX = 'heat_stats/';

/** One image through the fused model: each layer's head outputs, and the logit peaks at logits resolution. */
export interface FusedRun {
  layers: FusedImageMoments[];
  argmax: Int32Array;
  maxLogit: Float32Array;
  /** Pixels with a NaN or +Inf logit. */
  nonFiniteLogits: number;
  /** Logits grid size. */
  height: number;
  width: number;
}

/** A decoded and preprocessed image, with the decoded file's size (which its label must have). */
export interface PreparedImage {
  prepared: PreprocessedImage;
  imageWidth: number;
  imageHeight: number;
}

/**
 * The model with the statistics head merged after it (fused.ts), for ground-truth labels at a fixed input size.
 * One probe run on a blank image at open() measures the feature grids and the logits, so the per-image label
 * reduction can be fed with the image. Exposes the same description fields as StatisticsModel.
 */
export class FusedStatisticsModel {
  /** Forward passes run so far (one per run()). */
  runs = 0;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly sha256: string,
    readonly featureTensors: readonly string[],
    readonly logitsTensor: string,
    readonly executionProvider: ProviderName,
    private readonly input: TensorInfo,
    readonly preprocessing: PreprocessSettings,
    /** Feature grid of each layer: D × h × w. */
    readonly grids: readonly { channels: number; height: number; width: number }[],
    readonly classCount: number,
    private readonly outputNames: Record<string, string>,
    private readonly log: Logger,
  ) {}

  get featureTensor(): string {
    return this.featureTensors[0];
  }

  /**
   * Opens the fused model, or returns the reason it cannot be used (then StatisticsModel does the same work):
   * the input size must be fixed (by the model or heat.model.inputSize) and the head must merge into the graph.
   */
  static async open(config: HeatConfig, log: Logger, layers: readonly string[]): Promise<FusedStatisticsModel | string> {
    const tensors = await resolveStatisticsTensors(config, layers);
    const { model, input, logits } = tensors;
    const settings = preprocessSettings(config);
    const small = inputGeometry(input, settings, { width: 1, height: 1 });
    const large = inputGeometry(input, settings, { width: 2, height: 2 });
    if (small.height !== large.height || small.width !== large.width) return 'the input size follows each image (set heat.model.inputSize to fix it)';

    // Probe: a blank image through the plain model measures the feature grids, the class count and the layouts.
    const probe = await StatisticsModel.create(config, log, tensors, 'model (probe)');
    let measured: ModelRun;
    try {
      measured = await probe.runImage({ data: new Uint8Array(small.width * small.height * 3), width: small.width, height: small.height, source: 'probe image' });
    } finally {
      await probe.release();
    }
    const grids = measured.layers.map((g) => ({ channels: g.channels, height: g.height, width: g.width }));
    const classCount = measured.logits.classes;

    const head = buildStatisticsHead(grids.map((g) => ({ dim: g.channels, parts: fusedParts(g.channels) })), classCount);
    const blocker = mergeBlocker(model.proto, head);
    if (blocker) return blocker;
    const bindings: Record<string, { tensor: string; layout: Layout }> = { [FUSED_LOGITS_INPUT]: { tensor: logits, layout: measured.logits.layout } };
    const external: string[] = [];
    measured.layers.forEach((g, i) => {
      const names = fusedNames(i);
      bindings[names.features] = { tensor: probe.featureTensors[i], layout: g.layout };
      external.push(names.cellClasses, names.inverseCounts);
    });
    const merged = mergeHead(model.proto, head, bindings, { prefix: FUSED_PREFIX, externalInputs: external });
    const { session, provider: ran } = await createSession(encodeModel(merged.model), get<ProviderSetting>(config, 'heat.executionProvider'), log, 'model');
    log.info(`Statistics of ${describeTensors(tensors)}, with class moments computed in the model's session.`);
    return new FusedStatisticsModel(session, model.sha256, probe.featureTensors, logits, ran, input, settings, grids, classCount, merged.headOutputs, log);
  }

  /** Decodes and preprocesses one image. */
  async prepare(imageFile: string): Promise<PreparedImage> {
    const image = await decodeImage(imageFile, this.log);
    return { prepared: await preprocess(image, this.preprocessing, this.input), imageWidth: image.width, imageHeight: image.height };
  }

  /** Runs one prepared image with each layer's cell classes (−1 = left out), one Int32Array per layer over its grid. */
  async run(image: PreparedImage, cellClasses: readonly Int32Array[]): Promise<FusedRun> {
    const C = this.classCount;
    const feeds: Record<string, ort.Tensor> = { [this.input.name]: image.prepared.tensor };
    const counts = this.grids.map((g, i) => {
      const cells = cellClasses[i];
      const n = g.height * g.width;
      if (cells.length !== n) throw new Error(`Layer ${i} has ${n} cells but ${cells.length} cell classes were given.`);
      const onehot = new Float32Array(C * n);
      const count = new Float64Array(C);
      for (let p = 0; p < n; p++) {
        const c = cells[p];
        if (c < 0) continue;
        onehot[c * n + p] = 1;
        count[c]++;
      }
      const names = fusedNames(i);
      feeds[`${FUSED_PREFIX}${names.cellClasses}`] = new ort.Tensor('float32', onehot, [C, n]);
      feeds[`${FUSED_PREFIX}${names.inverseCounts}`] = new ort.Tensor('float32', Float32Array.from(count, (k) => (k > 0 ? 1 / k : 0)), [1, C]);
      return count;
    });
    this.runs++;
    const out = await this.session.run(feeds);
    const take = (name: string) => out[this.outputNames[name]];
    const peaks = take(FUSED_MAX_LOGIT);
    return {
      layers: this.grids.map((g, i) => {
        const names = fusedNames(i);
        return {
          counts: counts[i],
          means: take(names.means).data as Float32Array,
          residuals: take(names.residuals).data as Float32Array,
          scatter: take(names.scatter).data as Float32Array,
        };
      }),
      argmax: take(FUSED_ARGMAX).data as Int32Array,
      maxLogit: peaks.data as Float32Array,
      nonFiniteLogits: Number((take(FUSED_NON_FINITE).data as Float32Array)[0]),
      // The peak maps are [1, 1, H, W].
      height: peaks.dims[2],
      width: peaks.dims[3],
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
