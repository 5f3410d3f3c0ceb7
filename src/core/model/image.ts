/**
 * Image decoding with sharp: any PNG (8/16-bit, palette, grayscale, with alpha), JPEG or WebP becomes
 * 8-bit RGB, height × width × 3, row-major.
 */
import { promises as fs } from 'node:fs';
import sharp from 'sharp';
import { HeatError } from '../errors';
import type { Logger } from '../log';

export interface RgbImage {
  /** RGB bytes, HWC order: pixel (y, x) channel c at (y * width + x) * 3 + c. */
  data: Uint8Array;
  width: number;
  height: number;
  /** Source file, for error messages. */
  source: string;
}

/**
 * Decodes `file` to 8-bit RGB. Grayscale is replicated to three channels, alpha is dropped and 16-bit samples
 * are reduced to 8 bits, each with an info line on `log`. Unreadable or corrupt files raise a HeatError naming the file.
 */
export async function decodeImage(file: string, log: Logger): Promise<RgbImage> {
  // EXIF orientation is not applied, as PIL and OpenCV's plain readers do not apply it, so pixels stay aligned with label files.
  const stat = await fs.stat(file).catch(() => {
    throw new HeatError(`Image file not found: ${file}.`, 'Check the path or the heat.data.*.images pattern.', file);
  });
  if (stat.isDirectory()) {
    throw new HeatError(`${file} is a folder, not an image.`, `Pass the image files, for example ${JSON.stringify(`${file}/*.png`)} expanded by the shell.`, file);
  }
  const decoder = sharp(file);
  const metadata = await decoder.metadata().catch((error: unknown) => {
    throw new HeatError(`Cannot decode image ${file}: ${describe(error)}.`, 'Check that the file is a complete PNG, JPEG, WebP or TIFF image; convert other formats such as BMP to PNG.', file);
  });
  const notes: string[] = [];
  const channels = metadata.channels ?? 3;
  if (metadata.isPalette) notes.push('palette colours expanded to RGB');
  if (channels <= 2) notes.push('grayscale replicated to RGB');
  if (metadata.hasAlpha) notes.push('alpha channel dropped');
  if (metadata.depth === 'ushort' || (metadata.bitsPerSample ?? 8) > 8) notes.push('16-bit samples reduced to 8 bits');
  if (metadata.orientation !== undefined && metadata.orientation !== 1) notes.push(`EXIF orientation ${metadata.orientation} not applied (the pixels are used as stored)`);

  try {
    const { data, info } = await decoder
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoder returned ${info.channels} channels`);
    if (notes.length > 0) log.info(`${file}: ${notes.join('; ')}.`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, source: file };
  } catch (error) {
    throw new HeatError(`Cannot decode image ${file}: ${describe(error)}.`, 'Check that the file is a complete PNG, JPEG, WebP or TIFF image; convert other formats such as BMP to PNG.', file);
  }
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0].trim().replace(/\.$/, '');
}
