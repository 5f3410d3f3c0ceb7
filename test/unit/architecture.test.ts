import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) files.push(...sourceFiles(full));
    else if (full.endsWith('.ts')) files.push(full);
  }
  return files;
}

const importsOf = (file: string) => [...readFileSync(file, 'utf8').matchAll(/(?:from\s+|require\()\s*['"]([^'"]+)['"]/g)].map((m) => m[1]);

describe('architecture', () => {
  it('engine core never imports vscode', () => {
    const offenders = sourceFiles('src/core').filter((f) => importsOf(f).includes('vscode'));
    assert.deepEqual(offenders, []);
  });

  it('extension host never imports onnxruntime', () => {
    const offenders = sourceFiles('src/extension').filter((f) => importsOf(f).some((m) => m.startsWith('onnxruntime')));
    assert.deepEqual(offenders, []);
  });
});
