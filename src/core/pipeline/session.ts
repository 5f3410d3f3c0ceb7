/**
 * A scoring session: the user's model with the HEAT head graph behind it, opened once from a configuration
 * and run once per image. Opening resolves the logits and feature tensors, detects their layouts with one
 * probe run, loads and checks the statistics file, builds the head and creates the onnxruntime session(s).
 */
import type * as ort from 'onnxruntime-node';
import type { TensorInfo } from '../api';
import { get, type HeatConfig } from '../config';
import { HeatError } from '../errors';
import { silentLogger, type Logger } from '../log';
import {
  buildHeatHeads, FEATURES_INPUT, LOGITS_INPUT,
  type CombinationMode, type ComponentStandardization, type CovarianceMode, type HeatComponent, type HeatHead,
  type HeatHeadVariant, type HeatOutputName, type Padding, type SpatialMethod,
} from '../heat';
import {
  checkedTensorLayout, decodeImage, detectInputLayout, listTensors, inputSpatialSize, loadConfiguredModel, measuredFloatShape, preprocess, preprocessSettings, resolveLayer, warnsAboutProbabilities,
  ScoringPipeline, type HeadBinding, type LayoutSetting, type LoadedModel, type PreprocessSettings, type ProviderSetting, type RgbImage,
} from '../model';
import { loadStatistics } from '../stats/file';
import { staleStatisticsWarning, statisticsSettingDifferences } from '../stats/settings';
import { checkFiniteEnergy } from './finite';
import { baseConfiguration } from '../sweep/grid';
import { standardizationFromValidation } from './calibrate';
import type { ClassStatistics } from '../stats/types';
import type { Layout } from '../tensor';

/** Head options that a sweep or ablation varies; the rest comes from the configuration. */
export interface VariantSettings {
  temperature: number;
  kernelSize: number;
  spatialMethod: SpatialMethod;
  padding: Padding;
  covariance: CovarianceMode;
  components: HeatComponent[];
  combination: CombinationMode;
  standardization?: Partial<Record<HeatComponent, ComponentStandardization>>;
}

export interface HeatSessionOptions {
  log?: Logger;
  /** Also return the softmax probabilities [C, H, W] (for the viewer's top-3 readout). */
  probabilities?: boolean;
  /** Head variants to build into one graph; default: one variant from the configuration, without suffix. */
  variants?: (Partial<VariantSettings> & { suffix: string })[];
  /** Open without statistics even when heat.statistics.path is set (statistics pass, baselines only). */
  withoutStatistics?: boolean;
  /** Cancels the validation pass that z-score constants may need. */
  signal?: AbortSignal;
}

/** Output of one image: every head map at logits resolution, keyed by head output name (with variant suffix). */
export interface ImageRun {
  image: RgbImage;
  maps: Map<string, Float32Array>;
  prediction: Int32Array;
  probabilities?: Float32Array;
  height: number;
  width: number;
  timings: { decode: number; preprocess: number; run: number };
}

/** Reads the head options of the configured (default) variant. */
export function variantFromConfig(config: HeatConfig): VariantSettings {
  const { temperature, kernelSize, spatialMethod, padding, covariance, components, combination } = baseConfiguration(config);
  return { temperature, kernelSize, spatialMethod, padding, covariance, components, combination };
}

export class HeatSession {
  private constructor(
    readonly model: LoadedModel,
    readonly pipeline: ScoringPipeline,
    readonly head: HeatHead,
    readonly input: TensorInfo,
    readonly preprocessing: PreprocessSettings,
    readonly logitsTensor: string,
    readonly featureTensor: string | undefined,
    readonly classCount: number,
    readonly statistics: ClassStatistics | undefined,
    readonly statisticsPath: string | undefined,
    readonly notes: string[],
    private readonly log: Logger,
  ) {}

  get executionProvider(): string {
    return this.pipeline.executionProvider;
  }

  /** Opens heat.model.path with the head variants requested (default: the configured one). */
  static async open(config: HeatConfig, options: HeatSessionOptions = {}): Promise<HeatSession> {
    const log = options.log ?? silentLogger;
    const { model, logitsTensor } = await loadConfiguredModel(config);

    const statisticsPath = options.withoutStatistics ? '' : get<string>(config, 'heat.statistics.path');
    const variants = options.variants ?? [{ suffix: '' }];
    const base = variantFromConfig(config);
    const wantsMahalanobis = variants.some((v) => (v.components ?? base.components).includes('mahalanobis'));
    const featureTensor = statisticsPath !== '' && wantsMahalanobis
      ? resolveLayer(model.proto, get<string>(config, 'heat.model.featureLayer')).tensor
      : undefined;

    // One probe run measures the logits and feature shapes the layouts are detected from; it also flags
    // a logits tensor that already contains probabilities.
    const measured = [logitsTensor, ...(featureTensor ? [featureTensor] : [])];
    const inspection = await listTensors(model, { measure: measured, log });
    const all = [...inspection.outputs, ...inspection.intermediates];
    const shapeOf = (name: string, settingKey: string) => measuredFloatShape(all, name, model.path, settingKey);
    const notes = inspection.warnings.filter((w) => warnsAboutProbabilities(w, logitsTensor));
    for (const note of notes) log.warn(note);

    const preprocessing = preprocessSettings(config);
    const classNames = get<string[]>(config, 'heat.model.classNames');
    const probeSize = inputSpatialSize(inspection.inputs[0]);
    const logitsShape = shapeOf(logitsTensor, 'heat.model.logitsTensor');
    // A wrong input layout would otherwise fail once per image, in preprocessing.
    const inputShape = inspection.inputs[0]?.shape;
    if (inputShape?.length === 4) detectInputLayout(inputShape, get<LayoutSetting>(config, 'heat.model.inputLayout'));
    const logitsLayout = checkedTensorLayout(logitsShape, { channels: classNames.length || undefined, inputSize: probeSize },
      get<LayoutSetting>(config, 'heat.model.logitsLayout'), `logits tensor "${logitsTensor}"`, 'heat.model.logitsLayout', log);
    const classCount = Number(logitsLayout === 'NCHW' ? logitsShape[1] : logitsShape[3]);
    if (classNames.length > 0 && classNames.length !== classCount) {
      throw new HeatError(`heat.model.classNames lists ${classNames.length} classes but the logits tensor "${logitsTensor}" has ${classCount}.`,
        'Make heat.model.classNames match the model, or leave it empty.', 'heat.model.classNames');
    }

    let statistics: ClassStatistics | undefined;
    const bindings: Record<string, HeadBinding> = { [LOGITS_INPUT]: { tensor: logitsTensor, layout: logitsLayout } };
    if (featureTensor) {
      const featureShape = shapeOf(featureTensor, 'heat.model.featureLayer');
      const featureLayout: Layout = checkedTensorLayout(featureShape, { inputSize: probeSize },
        get<LayoutSetting>(config, 'heat.model.featureLayout'), `feature tensor "${featureTensor}"`, 'heat.model.featureLayout', log);
      const dim = Number(featureLayout === 'NCHW' ? featureShape[1] : featureShape[3]);
      statistics = await loadStatistics(statisticsPath, { modelSha256: model.sha256, featureTensor, dim, classCount });
      const stale = staleStatisticsWarning(statisticsPath, statisticsSettingDifferences(config, statistics.metadata));
      if (stale) {
        log.warn(stale);
        notes.push(stale);
      }
      bindings[FEATURES_INPUT] = { tensor: featureTensor, layout: featureLayout };
    }

    const zScored = variants.some((v) => (v.combination ?? base.combination) !== 'reliability' && !v.standardization);
    if (zScored) {
      // standardized and equal need per-component z-score constants; they come from the validation split.
      base.standardization = await standardizationFromValidation(config, { log, signal: options.signal });
      notes.push(`Components z-scored with constants from the validation split: ${Object.entries(base.standardization).map(([c, z]) => `${c} ${z?.mean.toPrecision(4)} ± ${z?.std.toPrecision(4)}`).join(', ')}.`);
    }
    const head = buildHeatHeads(variants.map((v) => headVariant({ ...base, ...v }, v.suffix, statistics, classCount, options.probabilities === true)));
    const ranks = new Map(all.filter((t) => t.shape).map((t) => [t.name, (t.shape as unknown[]).length]));
    const pipeline = await ScoringPipeline.create(model, head.model, bindings, {
      provider: get<ProviderSetting>(config, 'heat.executionProvider'), log, ranks,
    });
    log.info(`Scoring ${model.path} on ${pipeline.executionProvider} (${pipeline.mode}${pipeline.reason ? `: ${pipeline.reason}` : ''}); logits "${logitsTensor}"${featureTensor ? `, features "${featureTensor}"` : ''}.`);
    for (const variant of head.variants) {
      for (const note of variant.notes.filter((n) => !notes.includes(n))) {
        notes.push(note);
        log.info(note);
      }
    }
    return new HeatSession(model, pipeline, head, inspection.inputs[0], preprocessing, logitsTensor, featureTensor, classCount,
      statistics, statistics ? statisticsPath : undefined, notes, log);
  }

  /** Decodes, preprocesses and scores one image file. */
  async runImage(file: string): Promise<ImageRun> {
    const t0 = performance.now();
    const image = await decodeImage(file, this.log);
    const t1 = performance.now();
    const prepared = await preprocess(image, this.preprocessing, this.input);
    const t2 = performance.now();
    const out = await this.pipeline.run({ [this.input.name]: prepared.tensor }).catch((error: unknown) => {
      throw runError(error, file);
    });
    const t3 = performance.now();

    const maps = new Map<string, Float32Array>();
    let height = 0;
    let width = 0;
    let prediction: Int32Array | undefined;
    let probabilities: Float32Array | undefined;
    for (const [name, tensor] of Object.entries(out)) {
      if (name === 'prediction') {
        prediction = toInt32(tensor);
      } else if (name === 'probabilities') {
        probabilities = tensor.data as Float32Array;
      } else {
        maps.set(name, tensor.data as Float32Array);
        height = Number(tensor.dims[tensor.dims.length - 2]);
        width = Number(tensor.dims[tensor.dims.length - 1]);
      }
    }
    checkFiniteEnergy(maps, file, this.logitsTensor);
    return {
      image, maps, prediction: prediction ?? new Int32Array(height * width), probabilities, height, width,
      timings: { decode: t1 - t0, preprocess: t2 - t1, run: t3 - t2 },
    };
  }

  async release(): Promise<void> {
    await this.pipeline.release();
  }
}

function headVariant(settings: VariantSettings, suffix: string, statistics: ClassStatistics | undefined, classCount: number, probabilities: boolean): HeatHeadVariant {
  const outputs: HeatOutputName[] = [
    'energy', 'max_logit', 'max_softmax', 'entropy', 'spatial', 'weight_energy', 'weight_mahalanobis', 'weight_spatial', 'heat', 'prediction',
  ];
  if (statistics) outputs.push('mahalanobis');
  if (probabilities) outputs.push('probabilities');
  return { ...settings, suffix, statistics, classCount, outputs };
}

function toInt32(tensor: ort.Tensor): Int32Array {
  const data = tensor.data;
  if (data instanceof Int32Array) return data;
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
  return out;
}

/**
 * Wraps an onnxruntime run failure in a HeatError naming the image. A shape error there most often comes from a
 * layout or input size the configuration sets wrongly, which the checks before the run cannot always see.
 */
function runError(error: unknown, image: string): unknown {
  if (error instanceof HeatError || !(error instanceof Error)) return error;
  // onnxruntime's messages can carry terminal colour codes.
  const message = error.message.replace(/\u001b\[[0-9;]*m/g, '').trim();
  return new HeatError(`onnxruntime failed to run the model on ${image}: ${message}`,
    'A shape error here usually means a wrong heat.model.inputLayout, heat.model.logitsLayout, heat.model.featureLayout or heat.model.inputSize: set the layouts to "auto" and check the input size with "heat-lens inspect MODEL".',
    image);
}
