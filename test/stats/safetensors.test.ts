import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { decodeSafetensors, encodeSafetensors } from '../../src/core/stats/safetensors';
import {
  loadStatistics, readPartialStatistics, readStatistics, STATISTICS_FORMAT_VERSION, writePartialStatistics, writeStatistics,
} from '../../src/core/stats/file';
import { ClassStatistics, StatisticsMetadata } from '../../src/core/stats/types';
import { HeatError } from '../../src/core/errors';

const fixtures = path.join(__dirname, '..', 'fixtures', 'stats');
const python = '/usr/bin/python3';

function hasNumpy(): boolean {
  try {
    execFileSync(python, ['-c', 'import numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function metadata(overrides: Partial<StatisticsMetadata> = {}): StatisticsMetadata {
  return {
    formatVersion: STATISTICS_FORMAT_VERSION, modelSha256: 'cd'.repeat(32), featureTensor: '/layer3/Relu_output_0', dim: 2,
    classNames: ['road', 'car'], labelMapping: { offset: 0, map: {}, ignore: [255], anomaly: [13] },
    preprocessing: { channelOrder: 'RGB', scale: 1 / 255 }, regularization: { epsilon: 1e-4, mode: 'absolute' },
    labelSource: 'groundTruth', imageCount: 3, createdAt: '2026-12-04T20:00:00.000Z', ...overrides,
  };
}

function smallStatistics(): ClassStatistics {
  return {
    classCount: 2, dim: 2, means: Float64Array.from([1, 2, 3, 4]), counts: Float64Array.from([10, 5]), emptyClasses: [],
    tiedCovariance: Float64Array.from([2, 0.5, 0.5, 1]), tiedPrecision: Float64Array.from([4 / 7, -2 / 7, -2 / 7, 8 / 7]),
    classCovariances: Float64Array.from([1, 0, 0, 1, 2, 0, 0, 2]), classPrecisions: Float64Array.from([1, 0, 0, 1, 0.5, 0, 0, 0.5]),
    lowRank: { rank: 1, vectors: Float64Array.from([0.9, 0.4]), values: Float64Array.from([2.2]) },
    maxLogit: { mean: Float64Array.from([7, 8]), std: Float64Array.from([1, 2]) },
    metadata: metadata(),
  };
}

describe('stats safetensors format', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(path.join(tmpdir(), 'heat-stats-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('hand-built buffer: 8-byte length, space-padded JSON, raw little-endian data', () => {
    const bytes = encodeSafetensors({ tensors: { a: { dtype: 'F64', shape: [1], data: Float64Array.from([1.5]) } }, metadata: {} });
    const json = '{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}';
    const padded = json + ' '.repeat((8 - (json.length % 8)) % 8);
    const expected = Buffer.alloc(8 + padded.length + 8);
    expected.writeBigUInt64LE(BigInt(padded.length), 0);
    expected.write(padded, 8, 'utf8');
    expected.writeDoubleLE(1.5, 8 + padded.length);
    assert.deepEqual(Buffer.from(bytes), expected);
  });

  it('reads the fixture written by the Python script (numpy + struct) with its values', () => {
    const reference = JSON.parse(readFileSync(path.join(fixtures, 'reference.json'), 'utf8'));
    const content = decodeSafetensors(readFileSync(path.join(fixtures, 'reference.safetensors')), 'reference.safetensors');
    assert.deepEqual(content.metadata, reference.metadata);
    for (const [name, expected] of Object.entries(reference.tensors) as [string, { shape: number[]; values: number[] }][]) {
      assert.deepEqual(content.tensors[name].shape, expected.shape);
      assert.deepEqual(Array.from(content.tensors[name].data as Float64Array, (v) => (name === 'half' ? Math.fround(v) : v)),
        expected.values.map((v) => (name === 'half' ? Math.fround(v) : v)));
    }
  });

  it('writes the Python fixture byte for byte from the same tensors', () => {
    const reference = JSON.parse(readFileSync(path.join(fixtures, 'reference.json'), 'utf8'));
    const tensors: Record<string, { dtype: 'F64' | 'F32'; shape: number[]; data: Float64Array | Float32Array }> = {};
    for (const [name, t] of Object.entries(reference.tensors) as [string, { shape: number[]; values: number[] }][]) {
      tensors[name] = name === 'half'
        ? { dtype: 'F32', shape: t.shape, data: Float32Array.from(t.values) }
        : { dtype: 'F64', shape: t.shape, data: Float64Array.from(t.values) };
    }
    const bytes = encodeSafetensors({ tensors, metadata: reference.metadata });
    assert.deepEqual(Buffer.from(bytes), readFileSync(path.join(fixtures, 'reference.safetensors')));
  });

  it('a statistics file parses in Python with numpy and holds the stored values', function () {
    if (!existsSync(python) || !hasNumpy()) {
      console.log(`      skipped: ${python} with numpy is not available`);
      this.skip();
    }
    const file = path.join(dir, 'stats.safetensors');
    return writeStatistics(file, smallStatistics()).then(() => {
      const parsed = JSON.parse(execFileSync(python, [path.join(fixtures, 'read_safetensors.py'), file], { encoding: 'utf8' }));
      assert.equal(parsed.tensors.class_means.sum, 10);
      assert.deepEqual(parsed.tensors.class_covariances.shape, [2, 2, 2]);
      assert.deepEqual(parsed.tensors.eigenvectors.shape, [2, 1]);
      assert.equal(parsed.tensors.tied_precision.first, 4 / 7);
      assert.equal(parsed.metadata.featureTensor, '/layer3/Relu_output_0');
      assert.deepEqual(JSON.parse(parsed.metadata.classNames), ['road', 'car']);
      assert.equal(parsed.metadata.dim, '2');
      assert.deepEqual(parsed.order, [...parsed.order].sort());
    });
  });

  it('statistics round trip keeps every tensor and the metadata', async () => {
    const file = path.join(dir, 'stats.safetensors');
    const stats = smallStatistics();
    await writeStatistics(file, stats);
    const back = await readStatistics(file);
    assert.deepEqual(back, stats);
  });

  it('loading against another model, layer or D names each difference and how to recompute', async () => {
    const file = path.join(dir, 'stats.safetensors');
    await writeStatistics(file, smallStatistics());
    await assert.doesNotReject(loadStatistics(file, { modelSha256: 'cd'.repeat(32), featureTensor: '/layer3/Relu_output_0', dim: 2 }));
    await assert.rejects(loadStatistics(file, { modelSha256: 'ef'.repeat(32), featureTensor: '/layer4/Relu_output_0', dim: 2 }), (e: unknown) => {
      assert.ok(e instanceof HeatError);
      assert.match(e.message, /model SHA-256 is cdcd.* in the file but efef.* for the current model/);
      assert.match(e.message, /feature tensor is "\/layer3\/Relu_output_0" in the file but "\/layer4\/Relu_output_0" now/);
      assert.doesNotMatch(e.message, /feature dimension/);
      assert.match(e.message, /heat-lens stats/);
      return true;
    });
    await assert.rejects(loadStatistics(file, { dim: 1024 }), /feature dimension D is 2 in the file but 1024 now/);
  });

  it('partial and finished files are told apart', async () => {
    const partialFile = path.join(dir, 'part.safetensors');
    await writePartialStatistics(partialFile, {
      moments: { kind: 'classwise', classCount: 1, dim: 1, counts: Float64Array.from([3]), means: Float64Array.from([1]), scatters: Float64Array.from([2]) },
      maxLogit: { counts: Float64Array.from([3]), means: Float64Array.from([5]), m2: Float64Array.from([1]) },
      metadata: { ...metadata({ dim: 1 }), shard: '0/2' },
    });
    await assert.rejects(readStatistics(partialFile), /is a partial shard file.*heat-lens stats merge/);
    const back = await readPartialStatistics(partialFile);
    assert.equal(back.metadata.shard, '0/2');
    assert.deepEqual([...back.moments.scatters], [2]);
    const finished = path.join(dir, 'final.safetensors');
    await writeStatistics(finished, smallStatistics());
    await assert.rejects(readPartialStatistics(finished), /not a partial shard file/);
  });

  describe('bad files', () => {
    const good = () => encodeSafetensors({ tensors: { a: { dtype: 'F64', shape: [2], data: Float64Array.from([1, 2]) } }, metadata: {} });
    const headerOf = (header: object) => {
      const json = Buffer.from(JSON.stringify(header));
      const out = Buffer.alloc(8 + json.length + 16);
      out.writeBigUInt64LE(BigInt(json.length), 0);
      json.copy(out, 8);
      return out;
    };
    const cases: [string, () => Uint8Array, RegExp][] = [
      ['shorter than 8 bytes', () => new Uint8Array(3), /fewer than the 8-byte header length/],
      ['header length beyond the file', () => { const b = Buffer.from(good()); b.writeBigUInt64LE(10_000n, 0); return b; }, /header length 10000 exceeds/],
      ['header not JSON', () => { const b = Buffer.from(good()); b.write('#', 8); return b; }, /header is not JSON/],
      ['truncated data', () => good().slice(0, -1), /tensors end at byte/],
      ['hole between tensors', () => headerOf({ a: { dtype: 'F64', shape: [1], data_offsets: [8, 16] } }), /starts at byte 8, expected 0/],
      ['shape and span disagree', () => headerOf({ a: { dtype: 'F64', shape: [3], data_offsets: [0, 16] } }), /needs 24/],
      ['unknown dtype', () => headerOf({ a: { dtype: 'Q8', shape: [2], data_offsets: [0, 16] } }), /unsupported dtype "Q8"/],
      ['metadata value not a string', () => headerOf({ __metadata__: { dim: 4 }, a: { dtype: 'F64', shape: [2], data_offsets: [0, 16] } }), /__metadata__.dim is not a string/],
    ];
    for (const [name, make, pattern] of cases) {
      it(`rejects a file with ${name}, naming the file`, () => {
        assert.throws(() => decodeSafetensors(make(), 'bad.safetensors'), (e: unknown) => e instanceof HeatError && /^bad\.safetensors is not a valid safetensors file/.test(e.message) && pattern.test(e.message));
      });
    }

    it('rejects a missing file and another format version with the fix', async () => {
      await assert.rejects(readStatistics(path.join(dir, 'none.safetensors')), /Cannot read statistics file .*heat-lens stats/);
      const file = path.join(dir, 'old.safetensors');
      writeFileSync(file, encodeSafetensors({ tensors: {}, metadata: { formatVersion: '0' } }));
      await assert.rejects(readStatistics(file), /format version "0"; this version of HEAT Lens reads version 1/);
    });
  });
});
