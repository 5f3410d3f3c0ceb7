import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/**
 * Writes a file atomically: the data goes to a temporary file in the same folder, which is then renamed
 * over the target, so a crash or cancellation never leaves a half-written file under the final name.
 */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  const temporary = `${target}.tmp-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    await fs.writeFile(temporary, data);
    await fs.rename(temporary, target);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw error;
  }
}

/**
 * Builds a folder of outputs atomically: `fill` writes into a temporary sibling folder, which replaces
 * `target` only when `fill` resolves. On error or cancellation the temporary folder is removed.
 */
export async function writeDirAtomic(target: string, fill: (dir: string) => Promise<void>): Promise<void> {
  const parent = path.dirname(path.resolve(target));
  await fs.mkdir(parent, { recursive: true });
  const temporary = await fs.mkdtemp(path.join(parent, `.${path.basename(target)}.tmp-`));
  try {
    // mkdtemp creates the folder private (0700); the result is an ordinary output folder.
    await fs.chmod(temporary, 0o777 & ~process.umask());
    await fill(temporary);
    await fs.rm(target, { recursive: true, force: true });
    await fs.rename(temporary, target);
  } catch (error) {
    await fs.rm(temporary, { recursive: true, force: true });
    throw error;
  }
}
