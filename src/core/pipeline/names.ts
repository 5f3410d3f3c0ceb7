/**
 * Output names for a list of input images that stay unique when images share a file stem, so that no image's
 * outputs overwrite another's.
 */
import * as path from 'node:path';

/**
 * Returns one name per file, in order. A name is the stem where that is unique, else the parent folder and the
 * stem ("a-x" for a/x.png and b/x.png), else both with the extension ("a-x-jpg" for a/x.png and a/x.jpg).
 * A counter ("a-x-png-2") separates what is still equal, such as one file given twice.
 */
export function uniqueImageNames(files: readonly string[]): string[] {
  const parts = files.map((file) => path.parse(path.resolve(file)));
  const candidates: ((p: path.ParsedPath) => string)[] = [
    (p) => p.name,
    (p) => `${path.basename(p.dir)}-${p.name}`,
    (p) => `${path.basename(p.dir)}-${p.name}-${p.ext.replace(/^\./, '')}`,
  ];
  const names = parts.map((p) => {
    for (const candidate of candidates) {
      const name = candidate(p);
      if (parts.filter((other) => candidate(other) === name).length === 1) return name;
    }
    return candidates[candidates.length - 1](p);
  });
  const seen = new Map<string, number>();
  return names.map((name) => {
    const count = (seen.get(name) ?? 0) + 1;
    seen.set(name, count);
    return count === 1 ? name : `${name}-${count}`;
  });
}
