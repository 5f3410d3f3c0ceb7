import { constants as fsConstants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { HeatError } from './errors';

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

/**
 * Checks before a long job that `target` can later be written as a `kind` ('folder' or 'file'). It must not exist
 * as the other kind, and its nearest existing ancestor must be a writable folder. Otherwise it throws a HeatError
 * naming the path, so a job does not run for minutes and then fail at its last step. `subject` names what the path
 * is for, as the fix words it ("the report folder (--out)").
 */
export async function checkOutputPath(target: string, kind: 'folder' | 'file', subject: string): Promise<void> {
  const resolved = path.resolve(target);
  const stat = await fs.stat(resolved).catch(() => undefined);
  if (stat && kind === 'folder' && !stat.isDirectory()) {
    throw new HeatError(`The output folder ${resolved} is an existing file.`, `Choose another path for ${subject}, or move the file away.`, resolved);
  }
  if (stat && kind === 'file' && stat.isDirectory()) {
    throw new HeatError(`The output file ${resolved} is an existing folder.`, `Set ${subject} to a file name, for example ${path.join(resolved, 'statistics.safetensors')}.`, resolved);
  }
  // Folders are created on the way down, so the nearest existing ancestor decides whether writing can work.
  let ancestor = path.dirname(resolved);
  let ancestorStat = await fs.stat(ancestor).catch(() => undefined);
  while (!ancestorStat && path.dirname(ancestor) !== ancestor) {
    ancestor = path.dirname(ancestor);
    ancestorStat = await fs.stat(ancestor).catch(() => undefined);
  }
  if (ancestorStat && !ancestorStat.isDirectory()) {
    throw new HeatError(`Cannot write ${resolved}: ${ancestor} is a file, not a folder.`, `Choose another path for ${subject}.`, resolved);
  }
  try {
    await fs.access(ancestor, fsConstants.W_OK);
  } catch {
    throw new HeatError(`Cannot write ${resolved}: the folder ${ancestor} is not writable.`, `Choose another path for ${subject}, or change the folder's permissions.`, resolved);
  }
}
