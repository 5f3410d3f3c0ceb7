import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { statsCommand } from '../../src/cli/commands/stats';
import type { CommandContext } from '../../src/cli/context';
import { HeatError } from '../../src/core/errors';
import { memoryLogger, noProgress } from '../../src/core/log';
import { readStatistics } from '../../src/core/stats';
import { linearSegmentationModel } from '../../src/core/stats/synthetic';
import { random } from './reference';

function context(cwd: string): CommandContext & { printed: string[]; lines: string[] } {
  const log = memoryLogger();
  const printed: string[] = [];
  return { log, lines: log.lines, progress: noProgress, signal: new AbortController().signal, cwd, print: (line) => printed.push(line), printed };
}

describe('stats CLI command', function () {
  this.timeout(60000);
  let dir: string;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'heat-stats-cli-'));
    const rand = random(5);
    const d = 3;
    const c = 2;
    writeFileSync(path.join(dir, 'model.onnx'), linearSegmentationModel({
      w1: Float32Array.from({ length: d * 12 }, () => rand() - 0.5), b1: new Float32Array(d).fill(0.1),
      w2: Float32Array.from({ length: c * d }, () => rand() - 0.5), b2: new Float32Array(c), dim: d, classes: c, upsample: false,
    }));
    mkdirSync(path.join(dir, 'img'));
    mkdirSync(path.join(dir, 'lab'));
    for (let k = 0; k < 4; k++) {
      await sharp(Buffer.from(Uint8Array.from({ length: 8 * 8 * 3 }, () => Math.floor(rand() * 256))), { raw: { width: 8, height: 8, channels: 3 } })
        .png().toFile(path.join(dir, 'img', `${k}.png`));
      await sharp(Buffer.from(Uint8Array.from({ length: 64 }, (_, p) => (p % 8 < 4 ? 0 : 1))), { raw: { width: 8, height: 8, channels: 1 } })
        .png().toFile(path.join(dir, 'lab', `${k}.png`));
    }
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({
      'heat.model.path': 'model.onnx', 'heat.model.featureLayer': 'features', 'heat.model.mean': [0, 0, 0], 'heat.model.std': [1, 1, 1],
      'heat.executionProvider': 'cpu', 'heat.data.train.images': 'img/*.png', 'heat.data.train.labels': '{dir}/../lab/{stem}.png',
      'heat.statistics.path': 'out/stats.safetensors', 'heat.statistics.rank': 2,
    }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes heat.statistics.path by default and prints counts and the spectrum', async () => {
    const ctx = context(dir);
    assert.equal(await statsCommand.run(['--config', 'config.json'], ctx), 0);
    const stats = await readStatistics(path.join(dir, 'out', 'stats.safetensors'));
    assert.deepEqual([...stats.counts], [32, 32]);
    assert.match(ctx.printed[0], /^Wrote statistics to .*out\/stats\.safetensors$/);
    assert.ok(ctx.printed.some((l) => /^ {4}tied +\d\.\d{3}e[-+]\d+/.test(l)));
    assert.ok(ctx.printed.some((l) => /^ +0 0 +32$/.test(l)));
  });

  it('--shard writes partial files next to --out and "stats merge" combines them', async () => {
    const ctx = context(dir);
    for (const shard of ['0/2', '1/2']) {
      assert.equal(await statsCommand.run(['--config', 'config.json', '--shard', shard, '--out', `part-${shard[0]}.safetensors`], ctx), 0);
    }
    assert.ok(ctx.printed.some((l) => l.includes('partial statistics (shard 1/2)')));
    assert.equal(await statsCommand.run(['merge', 'part-0.safetensors', 'part-1.safetensors', '--out', 'merged.safetensors'], ctx), 0);
    const merged = await readStatistics(path.join(dir, 'merged.safetensors'));
    assert.equal(merged.metadata.imageCount, 4);
  });

  it('bad arguments: malformed shard, unknown split or precision, merge without --out', async () => {
    await assert.rejects(statsCommand.run(['--config', 'config.json', '--shard', '1-2'], context(dir)), (e: unknown) => e instanceof HeatError && /Invalid --shard "1-2"/.test(e.message));
    await assert.rejects(statsCommand.run(['--config', 'config.json', '--split', 'test'], context(dir)), /Invalid --split "test"/);
    await assert.rejects(statsCommand.run(['--config', 'config.json', '--precision', 'half'], context(dir)), /Invalid --precision "half"/);
    await assert.rejects(statsCommand.run(['--bogus'], context(dir)), /Unknown option --bogus/);
    const ctx = context(dir);
    assert.equal(await statsCommand.run(['merge', 'a.safetensors'], ctx), 2);
    assert.ok(ctx.lines.some((l) => /needs shard files and --out/.test(l)));
    assert.equal(existsSync(path.join(dir, 'a.safetensors')), false);
  });
});
