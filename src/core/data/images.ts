import sharp from 'sharp';
import { HeatError } from '../errors';

/**
 * Stored width and height of an image file, as sharp decodes it without EXIF rotation (the model input is
 * decoded the same way), for checking a label's size against its image.
 */
export async function imageSize(file: string): Promise<{ width: number; height: number }> {
  try {
    const { width, height } = await sharp(file).metadata();
    if (!width || !height) throw new Error('no dimensions in the header');
    return { width, height };
  } catch (error) {
    throw new HeatError(`Cannot read image ${file}: ${(error as Error).message}.`, 'Check that the file is a PNG, JPEG or WebP image.', file);
  }
}
