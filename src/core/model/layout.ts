/**
 * Layout detection for 4-D image-like tensors. Inputs: the axis holding 1 or 3 channels. Logits and
 * features: the class count when known, else which pair of axes looks like the image's spatial grid.
 */
import type { TensorInfo } from '../api';
import { get, type HeatConfig } from '../config';
import { HeatError } from '../errors';
import type { Logger } from '../log';
import type { Layout } from '../tensor';

export type LayoutSetting = 'auto' | Layout;

export interface LayoutDecision {
  layout: Layout;
  /** Whether a Transpose [0, 3, 1, 2] is needed to hand the tensor to NCHW code such as the HEAT heads. */
  toNchw: boolean;
  /** Reason for the choice, for logs and `inspect`. */
  reason: string;
  /** Set when a configured layout is doubtful but not ruled out; callers log it. */
  warning?: string;
}

type Dims = readonly (number | string)[];

function decided(layout: Layout, reason: string): LayoutDecision {
  return { layout, toNchw: layout === 'NHWC', reason };
}

function fixed(d: number | string): number | undefined {
  return typeof d === 'number' && d > 0 ? d : undefined;
}

function requireRank4(dims: Dims, what: string): void {
  if (dims.length !== 4) {
    throw new HeatError(`The ${what} has shape [${dims.join(', ')}] (rank ${dims.length}); HEAT Lens needs a rank-4 image-like tensor [N, C, H, W] or [N, H, W, C].`,
      `Choose a rank-4 ${what} or export the model so that it has one.`);
  }
}

/** Model input layout: NCHW when axis 1 has 1 or 3 channels, NHWC when axis 3 has them. A setting other than "auto" wins. */
export function detectInputLayout(dims: Dims, setting: LayoutSetting = 'auto'): LayoutDecision {
  const c1 = fixed(dims[1]);
  const c3 = fixed(dims[3]);
  const isChannels = (d: number | undefined) => d === 1 || d === 3;
  if (setting !== 'auto') {
    // A setting wins unless the shape rules it out: its channel axis lacks 1 or 3 channels and the other axis has them.
    const [mine, other] = setting === 'NCHW' ? [c1, c3] : [c3, c1];
    if (dims.length === 4 && !isChannels(mine) && isChannels(other)) {
      const flipped: Layout = setting === 'NCHW' ? 'NHWC' : 'NCHW';
      throw new HeatError(`heat.model.inputLayout is "${setting}", but the model input has shape [${dims.join(', ')}], whose axis ${setting === 'NCHW' ? 3 : 1} has the ${other} colour channels, so it is ${flipped}.`,
        `Set heat.model.inputLayout to "${flipped}" or "auto".`, 'heat.model.inputLayout');
    }
    return decided(setting, 'set by heat.model.inputLayout');
  }
  requireRank4(dims, 'model input');
  if (isChannels(c1) && !isChannels(c3)) return decided('NCHW', `axis 1 has ${c1} channels`);
  if (isChannels(c3) && !isChannels(c1)) return decided('NHWC', `axis 3 has ${c3} channels`);
  return decided('NCHW', `shape [${dims.join(', ')}] is ambiguous; NCHW assumed (set heat.model.inputLayout to override)`);
}

export interface TensorLayoutHints {
  /** Number of classes (logits) or channels (features), when known. */
  channels?: number;
  /** [height, width] of the model input, to recognise the spatial axes by their aspect ratio. */
  inputSize?: [number, number];
}

/**
 * Layout of logits or features. In NCHW the spatial axes are 2 and 3; in NHWC they are 1 and 2, so axis 2 is
 * spatial either way and the question is whether axis 1 or axis 3 contains the channels.
 * Evidence, in order: a setting, then a known channel count on exactly one of the two axes, then the spatial
 * pair whose aspect ratio matches the input's. Otherwise the axis that differs more from axis 2 is the channel axis.
 */
export function detectTensorLayout(dims: Dims, hints: TensorLayoutHints = {}, setting: LayoutSetting = 'auto', what = 'tensor', settingKey?: string): LayoutDecision {
  if (setting !== 'auto') {
    const warning = settingKey ? checkLayoutSetting(dims, hints, setting, what, settingKey) : undefined;
    return { ...decided(setting, 'set by configuration'), warning };
  }
  requireRank4(dims, what);
  const [d1, d2, d3] = [fixed(dims[1]), fixed(dims[2]), fixed(dims[3])];

  if (hints.channels !== undefined) {
    if (d1 === hints.channels && d3 !== hints.channels) return decided('NCHW', `axis 1 has the ${hints.channels} channels`);
    if (d3 === hints.channels && d1 !== hints.channels) return decided('NHWC', `axis 3 has the ${hints.channels} channels`);
  }
  if (d1 === undefined && d3 !== undefined) return decided('NCHW', 'axis 1 is dynamic and axis 3 fixed; NCHW assumed');
  if (d3 === undefined || d2 === undefined || d1 === undefined) return decided('NCHW', `shape [${dims.join(', ')}] has dynamic axes; NCHW assumed`);

  if (hints.inputSize) {
    const { nchwMiss, nhwcMiss } = aspectMisses(d1, d2, d3, hints.inputSize);
    if (Math.abs(nchwMiss - nhwcMiss) > 0.05) {
      return nchwMiss < nhwcMiss
        ? decided('NCHW', `axes 2, 3 match the input's aspect ratio`)
        : decided('NHWC', `axes 1, 2 match the input's aspect ratio`);
    }
  }
  const spread1 = Math.abs(Math.log(d1 / d2));
  const spread3 = Math.abs(Math.log(d3 / d2));
  if (spread3 > spread1) return decided('NHWC', `axis 3 (${d3}) differs most from the spatial axis 2 (${d2})`);
  return decided('NCHW', spread1 > spread3 ? `axis 1 (${d1}) differs most from the spatial axis 2 (${d2})` : `shape [${dims.join(', ')}] is ambiguous; NCHW assumed`);
}

/**
 * Returns how far the spatial axes of each layout (2, 3 for NCHW, 1, 2 for NHWC) are from the input's aspect
 * ratio, as |log(ratio of the axes) − log(height / width of the input)|.
 */
function aspectMisses(d1: number, d2: number, d3: number, inputSize: [number, number]): { nchwMiss: number; nhwcMiss: number } {
  const target = Math.log(inputSize[0] / inputSize[1]);
  return { nchwMiss: Math.abs(Math.log(d2 / d3) - target), nhwcMiss: Math.abs(Math.log(d1 / d2) - target) };
}

/**
 * Throws when the shape rules out a layout set in the configuration. That is the case when the other layout's
 * channel axis has the known channel count and this one's does not. It is also the case when the other layout's
 * spatial axes match the input's aspect ratio (within 5 %) while this one's are off by more than a factor of 2.
 * A wrong layout would otherwise surface as an onnxruntime shape error inside the HEAT head, or not at all for
 * features. Returns a warning when the other layout matches within 2 % and this one is off by more than 15 %,
 * since a model that resizes its input internally can legitimately do that.
 */
function checkLayoutSetting(dims: Dims, hints: TensorLayoutHints, setting: Layout, what: string, settingKey: string): string | undefined {
  if (dims.length !== 4) return;
  const [d1, d2, d3] = [fixed(dims[1]), fixed(dims[2]), fixed(dims[3])];
  const flipped: Layout = setting === 'NCHW' ? 'NHWC' : 'NCHW';
  const [mine, other] = setting === 'NCHW' ? [d1, d3] : [d3, d1];
  const reject = (evidence: string) => {
    throw new HeatError(`${settingKey} is "${setting}", but the ${what} has shape [${dims.join(', ')}]: ${evidence}, so it is ${flipped}.`,
      `Set ${settingKey} to "${flipped}" or "auto".`, settingKey);
  };
  if (hints.channels !== undefined && other === hints.channels && mine !== hints.channels) {
    reject(`its axis ${setting === 'NCHW' ? 3 : 1} has the ${hints.channels} channels`);
  }
  if (hints.inputSize && d1 !== undefined && d2 !== undefined && d3 !== undefined) {
    const { nchwMiss, nhwcMiss } = aspectMisses(d1, d2, d3, hints.inputSize);
    const [mineMiss, otherMiss] = setting === 'NCHW' ? [nchwMiss, nhwcMiss] : [nhwcMiss, nchwMiss];
    const evidence = `its axes ${setting === 'NCHW' ? '1, 2' : '2, 3'} have the input's aspect ratio (${hints.inputSize[0]} × ${hints.inputSize[1]})`;
    if (otherMiss < 0.05 && mineMiss > Math.log(2)) reject(evidence);
    if (otherMiss < 0.02 && mineMiss > 0.15) {
      return `${settingKey} is "${setting}", but the ${what} has shape [${dims.join(', ')}]: ${evidence}, as an ${flipped} tensor would. `
        + `If it is ${flipped}, set ${settingKey} to "${flipped}" or "auto".`;
    }
  }
  return undefined;
}

/** Layout decisions for the three tensors the pipeline touches. */
export interface ModelLayouts {
  input: LayoutDecision;
  logits: LayoutDecision;
  features?: LayoutDecision;
}

function knownShape(tensor: TensorInfo, what: string): (number | string)[] {
  if (!tensor.shape) {
    throw new HeatError(`The shape of ${what} "${tensor.name}" is unknown.`, 'List the model with listTensors (which measures missing shapes) before deciding layouts.', tensor.name);
  }
  return tensor.shape;
}

/**
 * Decides the layouts of the model input, the logits and (when given) the features, honouring
 * heat.model.inputLayout, logitsLayout and featureLayout. `classCount` (from heat.model.classNames or the
 * statistics) makes the logits decision exact when it matches only one axis.
 */
export function decideLayouts(config: HeatConfig, tensors: { input: TensorInfo; logits: TensorInfo; features?: TensorInfo }, classCount?: number): ModelLayouts {
  const inputShape = knownShape(tensors.input, 'model input');
  const input = detectInputLayout(inputShape, get<LayoutSetting>(config, 'heat.model.inputLayout'));
  const [hAxis, wAxis] = input.layout === 'NCHW' ? [2, 3] : [1, 2];
  const [h, w] = [inputShape[hAxis], inputShape[wAxis]];
  const inputSize = typeof h === 'number' && typeof w === 'number' && h > 0 && w > 0 ? ([h, w] as [number, number]) : undefined;

  const logits = detectTensorLayout(knownShape(tensors.logits, 'logits tensor'), { channels: classCount, inputSize }, get<LayoutSetting>(config, 'heat.model.logitsLayout'), 'logits tensor', 'heat.model.logitsLayout');
  const features = tensors.features
    ? detectTensorLayout(knownShape(tensors.features, 'feature tensor'), { inputSize }, get<LayoutSetting>(config, 'heat.model.featureLayout'), 'feature tensor', 'heat.model.featureLayout')
    : undefined;
  return { input, logits, features };
}

/** Decides a logits or feature layout as detectTensorLayout does, checking a configured one, and logs its warning. */
export function checkedTensorLayout(dims: Dims, hints: TensorLayoutHints, setting: LayoutSetting, what: string, settingKey: string, log: Logger): Layout {
  const decision = detectTensorLayout(dims, hints, setting, what, settingKey);
  if (decision.warning) log.warn(decision.warning);
  return decision.layout;
}
