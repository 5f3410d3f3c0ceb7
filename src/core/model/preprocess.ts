/**
 * Turns a decoded RGB image into the model's input tensor:
 *   x[c] = (pixel[c'] · scale − mean[c]) / std[c]
 * where c counts channels in the model's order and c' is the matching RGB channel (c' = 2 − c for BGR).
 * Mean and std are given in the model's channel order. The image is resized to heat.model.inputSize, else to
 * the model's static input size, else kept at its own size (dynamic input).
 */
import sharp from 'sharp';
import * as ort from 'onnxruntime-node';
import type { TensorInfo } from '../api';
import { get, type HeatConfig } from '../config';
import { HeatError } from '../errors';
import type { Layout } from '../tensor';
import type { RgbImage } from './image';
import { detectInputLayout, type LayoutSetting } from './layout';

export interface PreprocessSettings {
  channelOrder: 'RGB' | 'BGR';
  scale: number;
  mean: readonly number[];
  std: readonly number[];
  /** [height, width], or null for the model's static size or the image's own size. */
  inputSize: readonly [number, number] | null;
  inputLayout: LayoutSetting;
}

export function preprocessSettings(config: HeatConfig): PreprocessSettings {
  const std = get<number[]>(config, 'heat.model.std');
  if (std.some((s) => s === 0)) {
    throw new HeatError(`heat.model.std [${std.join(', ')}] contains 0, which would divide by zero.`, 'Use the per-channel standard deviations the model was trained with, or [1, 1, 1].', 'heat.model.std');
  }
  return {
    channelOrder: get<'RGB' | 'BGR'>(config, 'heat.model.channelOrder'),
    scale: get<number>(config, 'heat.model.scale'),
    mean: get<number[]>(config, 'heat.model.mean'),
    std,
    inputSize: get<[number, number] | null>(config, 'heat.model.inputSize'),
    inputLayout: get<LayoutSetting>(config, 'heat.model.inputLayout'),
  };
}

export interface PreprocessedImage {
  tensor: ort.Tensor;
  layout: Layout;
  /** Size the image was resized to: the model input's spatial size. */
  height: number;
  width: number;
}

/** Checks the model input and returns its layout and the [height, width] to resize to. */
export function inputGeometry(input: TensorInfo, settings: PreprocessSettings, image: { width: number; height: number }): { layout: Layout; height: number; width: number } {
  const shape = input.shape;
  if (input.dtype !== 'float32' && input.dtype !== 'unknown') {
    throw new HeatError(`Model input "${input.name}" has dtype ${input.dtype}; HEAT Lens feeds float32 images.`, 'Export the model with a float32 image input.', input.name);
  }
  if (!shape || shape.length !== 4) {
    throw new HeatError(`Model input "${input.name}" has shape ${shape ? `[${shape.join(', ')}]` : 'unknown'}; HEAT Lens needs a rank-4 image input [N, 3, H, W] or [N, H, W, 3].`,
      'Export the model with a 4-D image input.', input.name);
  }
  const layout = detectInputLayout(shape, settings.inputLayout).layout;
  const [hAxis, wAxis, cAxis] = layout === 'NCHW' ? [2, 3, 1] : [1, 2, 3];
  const channels = shape[cAxis];
  if (typeof channels === 'number' && channels !== 3) {
    throw new HeatError(`Model input "${input.name}" has ${channels} channel(s) on axis ${cAxis} (${layout}); HEAT Lens feeds 3-channel colour images.`,
      `Check heat.model.inputLayout (now "${settings.inputLayout}") or export the model with a 3-channel input.`, input.name);
  }
  const fixedH = typeof shape[hAxis] === 'number' && (shape[hAxis] as number) > 0 ? (shape[hAxis] as number) : undefined;
  const fixedW = typeof shape[wAxis] === 'number' && (shape[wAxis] as number) > 0 ? (shape[wAxis] as number) : undefined;
  if (settings.inputSize) {
    const [h, w] = settings.inputSize;
    if ((fixedH !== undefined && fixedH !== h) || (fixedW !== undefined && fixedW !== w)) {
      throw new HeatError(`heat.model.inputSize [${h}, ${w}] differs from the fixed input size [${fixedH ?? '?'}, ${fixedW ?? '?'}] of model input "${input.name}".`,
        `Set heat.model.inputSize to [${fixedH ?? h}, ${fixedW ?? w}] or to null.`, 'heat.model.inputSize');
    }
    return { layout, height: h, width: w };
  }
  return { layout, height: fixedH ?? image.height, width: fixedW ?? image.width };
}

/** Resizes (bilinear, aspect ratio not kept, as a plain tensor resize would) and normalises `image` into the input tensor. */
export async function preprocess(image: RgbImage, config: PreprocessSettings | HeatConfig, input: TensorInfo): Promise<PreprocessedImage> {
  const settings = 'baseDir' in config ? preprocessSettings(config) : config;
  const { layout, height, width } = inputGeometry(input, settings, image);
  const pixels = height === image.height && width === image.width ? image.data : await resizeRgb(image, width, height);
  return { tensor: new ort.Tensor('float32', normalize(pixels, width * height, settings, layout), layout === 'NCHW' ? [1, 3, height, width] : [1, height, width, 3]), layout, height, width };
}

async function resizeRgb(image: RgbImage, width: number, height: number): Promise<Uint8Array> {
  const buffer = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer();
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/**
 * Normalises in one pass over the pixels through a 256-entry table per channel (the affine map of each byte value is fixed),
 * writing planes for NCHW or interleaved values for NHWC.
 */
export function normalize(rgb: Uint8Array, pixels: number, settings: PreprocessSettings, layout: Layout): Float32Array {
  const tables = [0, 1, 2].map((c) => {
    const table = new Float32Array(256);
    for (let v = 0; v < 256; v++) table[v] = (v * settings.scale - settings.mean[c]) / settings.std[c];
    return table;
  });
  // source[c] = RGB channel read for model channel c.
  const source = settings.channelOrder === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  const out = new Float32Array(pixels * 3);
  for (let c = 0; c < 3; c++) {
    const table = tables[c];
    const s = source[c];
    if (layout === 'NCHW') {
      const plane = c * pixels;
      for (let i = 0; i < pixels; i++) out[plane + i] = table[rgb[i * 3 + s]];
    } else {
      for (let i = 0; i < pixels; i++) out[i * 3 + c] = table[rgb[i * 3 + s]];
    }
  }
  return out;
}
