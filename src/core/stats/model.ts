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
  addOutputs, createSession, decodeImage, detectTensorLayout, encodeModel, loadConfiguredModel, preprocess,
  preprocessSettings, resolveLayer, type LayoutSetting, type PreprocessSettings, type ProviderName, type ProviderSetting,
} from '../model';
import type { Layout } from '../tensor';
import type { FeatureGrid } from './accumulator';

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
    const { model, input, logitsTensor: logits } = await loadConfiguredModel(config);
    const requested = layers ?? [get<string>(config, 'heat.model.featureLayer')];
    if (requested.length === 0) throw new Error('StatisticsModel.open needs at least one feature layer.');
    const features = requested.map((layer) => resolveLayer(model.proto, layer));

    // Two layer names may resolve to one tensor; each output is added once.
    const graph = addOutputs(model.proto, [...new Set([...features.map((f) => f.tensor), logits])], false);
    const { session, provider } = await createSession(encodeModel(graph), get<ProviderSetting>(config, 'heat.executionProvider'), log, 'model');
    const classNames = get<string[]>(config, 'heat.model.classNames');
    const described = features.map((f) => `"${f.tensor}"${f.how === 'module' ? ` (module ${f.module})` : ''}`).join(', ');
    log.info(`Statistics of feature tensor${features.length > 1 ? 's' : ''} ${described}, logits "${logits}".`);
    return new StatisticsModel(
      session, model.sha256, features.map((f) => f.tensor), logits, provider, input, preprocessSettings(config),
      { features: get<LayoutSetting>(config, 'heat.model.featureLayout'), logits: get<LayoutSetting>(config, 'heat.model.logitsLayout') },
      classNames.length > 0 ? classNames.length : undefined, log,
    );
  }

  /** Decodes, preprocesses and runs one image. */
  async run(imageFile: string): Promise<ModelRun> {
    const image = await decodeImage(imageFile, this.log);
    const prepared = await preprocess(image, this.preprocessing, this.input);
    this.runs++;
    const out = await this.session.run({ [this.input.name]: prepared.tensor });
    const logitsTensor = out[this.logitsTensor];
    const inputSize: [number, number] = [prepared.height, prepared.width];
    const layers = this.featureTensors.map((name, i): FeatureGrid => {
      const tensor = out[name];
      const layout = this.featureLayouts[i] ??= detectTensorLayout(tensor.dims, { inputSize }, this.layoutSettings.features, 'feature tensor').layout;
      const features = grid(tensor, layout, name, imageFile);
      return { data: features.data, channels: features.channels, height: features.height, width: features.width, layout };
    });
    this.logitsLayout ??= detectTensorLayout(logitsTensor.dims, { channels: this.expectedClasses, inputSize }, this.layoutSettings.logits, 'logits').layout;
    const logits = grid(logitsTensor, this.logitsLayout, this.logitsTensor, imageFile);
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
