/**
 * The model as the statistics pass uses it: one session that returns the feature tensor and the logits for
 * an image file. Their layouts are detected on the first run, or taken from heat.model.*Layout.
 */
import * as ort from 'onnxruntime-node';
import type { TensorInfo } from '../api';
import { get, type HeatConfig } from '../config';
import { HeatError } from '../errors';
import type { Logger } from '../log';
import {
  addOutputs, createSession, decodeImage, detectTensorLayout, encodeModel, graphTensors, loadModel, preprocess,
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
  features: FeatureGrid;
  logits: LogitsGrid;
  /** Size of the decoded image file, which its label must have. */
  imageWidth: number;
  imageHeight: number;
}

export class StatisticsModel {
  private featureLayout?: Layout;
  private logitsLayout?: Layout;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly sha256: string,
    readonly featureTensor: string,
    readonly logitsTensor: string,
    readonly executionProvider: ProviderName,
    private readonly input: TensorInfo,
    readonly preprocessing: PreprocessSettings,
    private readonly layoutSettings: { features: LayoutSetting; logits: LayoutSetting },
    private readonly expectedClasses: number | undefined,
    private readonly log: Logger,
  ) {}

  /** Opens heat.model.path with the feature layer and the logits as the only outputs. */
  static async open(config: HeatConfig, log: Logger): Promise<StatisticsModel> {
    const file = get<string>(config, 'heat.model.path');
    if (file === '') throw new HeatError('heat.model.path is empty.', 'Set heat.model.path to the ONNX segmentation model.', 'heat.model.path');
    const model = await loadModel(file);
    const feature = resolveLayer(model.proto, get<string>(config, 'heat.model.featureLayer'));
    const { inputs, outputs } = graphTensors(model.proto);
    const logitsSetting = get<string>(config, 'heat.model.logitsTensor');
    const logits = logitsSetting !== '' ? logitsSetting : outputs[0]?.name;
    if (!logits) throw new HeatError(`Model ${model.path} has no outputs.`, 'Set heat.model.logitsTensor to the tensor holding the logits.', 'heat.model.logitsTensor');
    if (inputs.length !== 1) {
      throw new HeatError(`Model ${model.path} has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}); HEAT Lens feeds one image input.`,
        'Export the model with a single image input.', 'heat.model.path');
    }

    const graph = addOutputs(model.proto, [feature.tensor, logits], false);
    const { session, provider } = await createSession(encodeModel(graph), get<ProviderSetting>(config, 'heat.executionProvider'), log, 'model');
    const classNames = get<string[]>(config, 'heat.model.classNames');
    log.info(`Statistics of feature tensor "${feature.tensor}"${feature.how === 'module' ? ` (module ${feature.module})` : ''}, logits "${logits}".`);
    return new StatisticsModel(
      session, model.sha256, feature.tensor, logits, provider, inputs[0], preprocessSettings(config),
      { features: get<LayoutSetting>(config, 'heat.model.featureLayout'), logits: get<LayoutSetting>(config, 'heat.model.logitsLayout') },
      classNames.length > 0 ? classNames.length : undefined, log,
    );
  }

  /** Decodes, preprocesses and runs one image. */
  async run(imageFile: string): Promise<ModelRun> {
    const image = await decodeImage(imageFile, this.log);
    const prepared = await preprocess(image, this.preprocessing, this.input);
    const out = await this.session.run({ [this.input.name]: prepared.tensor });
    const featureTensor = out[this.featureTensor];
    const logitsTensor = out[this.logitsTensor];
    const inputSize: [number, number] = [prepared.height, prepared.width];
    this.featureLayout ??= detectTensorLayout(featureTensor.dims, { inputSize }, this.layoutSettings.features, 'feature tensor').layout;
    this.logitsLayout ??= detectTensorLayout(logitsTensor.dims, { channels: this.expectedClasses, inputSize }, this.layoutSettings.logits, 'logits').layout;
    const features = grid(featureTensor, this.featureLayout, this.featureTensor, imageFile);
    const logits = grid(logitsTensor, this.logitsLayout, this.logitsTensor, imageFile);
    return {
      features: { data: features.data, channels: features.channels, height: features.height, width: features.width, layout: this.featureLayout },
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
