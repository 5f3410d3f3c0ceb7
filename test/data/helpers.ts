import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';

/** Creates a fresh temporary folder, removed by the returned cleanup. */
export async function tempDir(prefix = 'heat-data-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
}

/** Writes an 8-bit greyscale PNG holding `values` (row-major) with libvips, creating folders. */
export async function writeGreyPng(file: string, width: number, height: number, values: ArrayLike<number>): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const data = Uint8Array.from(values as ArrayLike<number>);
  await sharp(data, { raw: { width, height, channels: 1 } }).toColourspace('b-w').png().toFile(file);
}

/** Writes a 16-bit greyscale PNG. */
export async function writeGrey16Png(file: string, width: number, height: number, values: ArrayLike<number>): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await sharp(Uint16Array.from(values as ArrayLike<number>), { raw: { width, height, channels: 1 } }).toColourspace('grey16').png().toFile(file);
}

/** Writes a small RGB image (PNG or JPEG by extension) of uniform colour. */
export async function writeImage(file: string, width: number, height: number): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await sharp({ create: { width, height, channels: 3, background: { r: 90, g: 120, b: 60 } } }).toFile(file);
}

/** Folder of the shared real inputs, when this checkout has one. */
export const REAL_DIR = path.resolve(__dirname, '../../../shared/real');
