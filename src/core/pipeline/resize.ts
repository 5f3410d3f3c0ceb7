/**
 * Bilinear resize of a single-channel map with half-pixel centres, the convention of
 * torch `F.interpolate(mode='bilinear', align_corners=False)` and ONNX Resize `half_pixel`:
 * source coordinate = (target + 0.5) · (source size / target size) − 0.5, clamped to the image.
 */
export function resizeBilinear(source: Float32Array, height: number, width: number, outHeight: number, outWidth: number): Float32Array {
  if (height === outHeight && width === outWidth) return source;
  const out = new Float32Array(outHeight * outWidth);
  const scaleY = height / outHeight;
  const scaleX = width / outWidth;

  // Column taps are the same for every row, so they are computed once.
  const x0s = new Int32Array(outWidth);
  const x1s = new Int32Array(outWidth);
  const fxs = new Float32Array(outWidth);
  for (let x = 0; x < outWidth; x++) {
    const sx = Math.min(Math.max((x + 0.5) * scaleX - 0.5, 0), width - 1);
    x0s[x] = Math.floor(sx);
    x1s[x] = Math.min(x0s[x] + 1, width - 1);
    fxs[x] = sx - x0s[x];
  }

  for (let y = 0; y < outHeight; y++) {
    const sy = Math.min(Math.max((y + 0.5) * scaleY - 0.5, 0), height - 1);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, height - 1);
    const fy = sy - y0;
    const row0 = y0 * width;
    const row1 = y1 * width;
    const outRow = y * outWidth;
    for (let x = 0; x < outWidth; x++) {
      const fx = fxs[x];
      const top = source[row0 + x0s[x]] * (1 - fx) + source[row0 + x1s[x]] * fx;
      const bottom = source[row1 + x0s[x]] * (1 - fx) + source[row1 + x1s[x]] * fx;
      out[outRow + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

/** Nearest-neighbour resize of a class or mask map (no blending of label values). */
export function resizeNearest<T extends Uint8Array | Int32Array>(source: T, height: number, width: number, outHeight: number, outWidth: number): T {
  if (height === outHeight && width === outWidth) return source;
  const out = new (source.constructor as { new (n: number): T })(outHeight * outWidth);
  for (let y = 0; y < outHeight; y++) {
    const sy = Math.min(Math.floor(((y + 0.5) * height) / outHeight), height - 1);
    for (let x = 0; x < outWidth; x++) {
      const sx = Math.min(Math.floor(((x + 0.5) * width) / outWidth), width - 1);
      out[y * outWidth + x] = source[sy * width + sx];
    }
  }
  return out;
}
