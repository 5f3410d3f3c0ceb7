/**
 * The configured segmentation model: heat.model.path loaded and checked for one image input, with the logits
 * tensor resolved from heat.model.logitsTensor (empty: the first output). Shared by scoring, sweeps and the
 * statistics pass.
 */
import type { TensorInfo } from '../api';
import { get, type HeatConfig } from '../config';
import { HeatError } from '../errors';
import { loadModel, type LoadedModel } from './load';
import { resolveLogits } from './layer';
import { detectInputLayout } from './layout';
import { graphTensors, PROBE_SIDE } from './tensors';

export interface ConfiguredModel {
  model: LoadedModel;
  /** The model's only graph input, the image. */
  input: TensorInfo;
  logitsTensor: string;
}

export async function loadConfiguredModel(config: HeatConfig): Promise<ConfiguredModel> {
  const file = get<string>(config, 'heat.model.path');
  if (file === '') {
    if (config.missingSettings) {
      throw new HeatError(`heat.model.path is empty: no --config was given and ${config.missingSettings} does not exist, so only the defaults are in use.`,
        'Run in a workspace folder whose .vscode/settings.json sets heat.model.path, or pass --config FILE.', 'heat.model.path');
    }
    throw new HeatError('heat.model.path is empty.', 'Set heat.model.path to your ONNX segmentation model.', 'heat.model.path');
  }
  const model = await loadModel(file);
  const { inputs, outputs } = graphTensors(model.proto);
  if (inputs.length !== 1) {
    throw new HeatError(`Model ${model.path} has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}); HEAT Lens feeds one image input.`,
      'Export the model with a single image input.', 'heat.model.path');
  }
  const setting = get<string>(config, 'heat.model.logitsTensor');
  if (setting.trim() === '' && outputs.length === 0) {
    throw new HeatError(`Model ${model.path} has no outputs.`, 'Set heat.model.logitsTensor to the tensor holding the logits.', 'heat.model.logitsTensor');
  }
  return { model, input: inputs[0], logitsTensor: resolveLogits(model.proto, setting) };
}

/**
 * Returns the measured shape of `name` among `tensors` (from listTensors), requiring float32, since the HEAT
 * heads read float32 logits and features. `settingKey` is the setting the user changes to pick another tensor.
 */
export function measuredFloatShape(tensors: readonly TensorInfo[], name: string, modelPath: string, settingKey: string): (number | string)[] {
  const info = tensors.find((t) => t.name === name);
  if (!info || !info.shape) {
    throw new HeatError(`Tensor "${name}" was not found in ${modelPath}, or its shape could not be measured.`,
      `Run "heat-lens inspect ${modelPath}" to list the tensors and set ${settingKey}.`, name);
  }
  if (info.dtype !== 'float32') {
    throw new HeatError(`Tensor "${name}" of ${modelPath} has dtype ${info.dtype}; HEAT needs float32 logits and features.`,
      `Set ${settingKey} to a float32 tensor (see "heat-lens inspect ${modelPath}").`, name);
  }
  return info.shape;
}

/**
 * Returns the [height, width] of a rank-4 image input in the probe run that measured the tensor shapes: a
 * dynamic axis is PROBE_SIDE there (probeFeeds). Undefined when the input is not rank 4.
 */
export function inputSpatialSize(input: TensorInfo | undefined): [number, number] | undefined {
  const shape = input?.shape;
  if (!shape || shape.length !== 4) return undefined;
  const dims = shape.map((d) => (typeof d === 'number' && d > 0 ? d : PROBE_SIDE));
  return detectInputLayout(shape).layout === 'NCHW' ? [dims[2], dims[3]] : [dims[1], dims[2]];
}
