/** A dense float32 tensor in row-major order, with its shape. */
export interface Tensor {
  data: Float32Array;
  dims: number[];
}

/** Memory layout of a 4-D image-like tensor. */
export type Layout = 'NCHW' | 'NHWC';

export function tensorSize(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** A single-channel score map of height × width, row-major. */
export interface ScoreMap {
  data: Float32Array;
  height: number;
  width: number;
}
