/**
 * The checklist on the sample workspace (samples/street): every check returns a result with numeric
 * evidence; zero padding and a missing statistics file are caught; phases run alone; cancellation; the
 * CLI's bad arguments; and the titles land on the right lines of the user's guide (read in place).
 * Statistics are computed into a temporary folder, never into the sample.
 */
import * as assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CheckResult } from '../../src/core/api';
import { CHECKS, formatChecklist, runChecklist } from '../../src/core/checklist';
import { loadConfig, settingSpec, withOverrides, type HeatConfig } from '../../src/core/config';
import { CancelledError, HeatError } from '../../src/core/errors';
import { computeStatistics } from '../../src/core/stats/compute';
import { checklistCommand } from '../../src/cli/commands/checklist';
import { matchChecklist, parseChecklist } from '../../src/extension/checklistMatch';
import { memoryLogger, noProgress } from '../../src/core/log';

const ROOT = path.resolve(__dirname, '..', '..');
const SAMPLE = path.join(ROOT, 'samples', 'street');
const GUIDE = path.resolve(ROOT, '..', 'shared', 'seed', 'HEAT-implementation-guide.md');

describe('checklist on the sample workspace', function () {
  this.timeout(120_000);
  let dir: string;
  let config: HeatConfig;
  let results: CheckResult[];
  const streamed: string[] = [];

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'heat-checklist-'));
    const base = await loadConfig(undefined, SAMPLE);
    const statistics = path.join(dir, 'statistics.safetensors');
    config = withOverrides(base, {
      'heat.statistics.path': statistics,
      // Ten test images keep the evaluation short; the map checks score four images.
      'heat.data.test.images': path.join(SAMPLE, 'test/images/test_00*.png'),
    });
    await computeStatistics(config, { out: statistics });
    results = await runChecklist(config, { images: 4, onResult: (r) => streamed.push(r.id) });
  });

  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('every check: one result with numeric evidence and known heat.* keys', () => {
    assert.deepEqual(results.map((r) => r.id), CHECKS.map((c) => c.id));
    assert.deepEqual(streamed, CHECKS.map((c) => c.id));
    assert.equal(new Set(results.map((r) => r.id)).size, 27);
    for (const r of results) {
      assert.ok(['pass', 'warn', 'fail', 'skip'].includes(r.status), `${r.id}: ${r.status}`);
      assert.match(r.evidence, /\d/, `${r.id} has no number in its evidence: ${r.evidence}`);
      assert.ok(r.settings.length > 0, `${r.id} names no setting`);
      for (const key of r.settings) assert.ok(settingSpec(key), `${r.id} names unknown setting ${key}`);
      assert.ok(r.phase >= 1 && r.phase <= 6);
    }
  });

  it('sample: no check fails or skips, and the measured values are the sample\'s', () => {
    const bad = results.filter((r) => r.status === 'fail' || r.status === 'skip');
    assert.deepEqual(bad.map((r) => `${r.id}: ${r.evidence}`), []);
    const byId = new Map(results.map((r) => [r.id, r]));
    assert.match(byId.get('phase1.energy-shape-range')!.evidence, /energy 128×256 = logits 128×256/);
    assert.match(byId.get('phase2.layer-dimension')!.evidence, /D = 64 at 16×32/);
    assert.match(byId.get('phase2.memory')!.evidence, /C = 13, D = 64: class-wise covariances take 416\.0 KiB/);
    assert.equal(byId.get('phase3.minimum-over-classes')!.status, 'pass');
    assert.equal(byId.get('phase5.weights-sum')!.status, 'pass');
  });

  it('text output: grouped by phase with a count line', () => {
    const text = formatChecklist(results);
    for (let p = 1; p <= 6; p++) assert.match(text, new RegExp(`^Phase ${p}: `, 'm'));
    assert.match(text, /^Checklist: \d+ passed, \d+ warnings, \d+ failed, \d+ skipped\.$/m);
  });

  it('zero padding: the edge check warns and suggests exclude', async () => {
    const zero = withOverrides(config, { 'heat.score.padding': 'zero' });
    const phase4 = await runChecklist(zero, { phase: 4, images: 2 });
    assert.deepEqual([...new Set(phase4.map((r) => r.phase))], [4]);
    const edge = phase4.find((r) => r.id === 'phase4.padding-edge')!;
    assert.equal(edge.status, 'warn', edge.evidence);
    assert.match(edge.evidence, /corner 0\.81/);
    assert.deepEqual(edge.fix && [edge.fix.setting, edge.fix.value], ['heat.score.padding', 'exclude']);
    assert.ok(edge.settings.includes('heat.score.padding'));
  });

  it('missing statistics file: file check fails with the compute command; Mahalanobis checks skip', async () => {
    const missing = withOverrides(config, { 'heat.statistics.path': path.join(dir, 'absent.safetensors') });
    const log = memoryLogger();
    const phase2 = await runChecklist(missing, { phase: 2, images: 1, log });
    const file = phase2.find((r) => r.id === 'phase2.file-loadable')!;
    assert.equal(file.status, 'fail');
    assert.match(file.evidence, /absent\.safetensors does not exist/);
    assert.equal(file.fix?.command, 'heat.computeStatistics');
    const phase3 = await runChecklist(missing, { phase: 3, images: 1 });
    assert.deepEqual(phase3.map((r) => r.status), ['skip', 'skip', 'skip', 'skip', 'skip']);
  });

  it('no statistics without Mahalanobis: file check skips', async () => {
    const without = withOverrides(config, { 'heat.statistics.path': '', 'heat.score.components': ['energy', 'spatial'] });
    const phase2 = await runChecklist(without, { phase: 2, images: 1 });
    const file = phase2.find((r) => r.id === 'phase2.file-loadable')!;
    assert.equal(file.status, 'skip', file.evidence);
    assert.match(file.evidence, /without Mahalanobis/);
    assert.ok(phase2.every((r) => r.status !== 'fail'), phase2.map((r) => `${r.id} ${r.status}`).join(', '));
  });

  it('standardized combination: phase 5 measures the z-scored HEAT', async () => {
    const standardized = withOverrides(config, { 'heat.score.combination': 'standardized' });
    const phase5 = await runChecklist(standardized, { phase: 5, images: 3 });
    assert.deepEqual(phase5.filter((r) => r.status === 'fail').map((r) => r.evidence), []);
    assert.match(phase5.find((r) => r.id === 'phase5.dominance')!.evidence, /\|w·z\| \(standardized\)/);
  });

  it('cancel: an aborted signal stops the run with CancelledError', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(runChecklist(config, { signal: controller.signal }), CancelledError);
  });

  it('bad phase: HeatError from the engine and the CLI', async () => {
    await assert.rejects(runChecklist(config, { phase: 7 }), HeatError);
    const context = { log: memoryLogger(), progress: noProgress, signal: new AbortController().signal, cwd: SAMPLE, print: () => {} };
    await assert.rejects(checklistCommand.run(['--phase', 'two'], context), /Invalid --phase "two"/);
  });

  it('CLI --json: a JSON array of results and exit code 0 without failures', async () => {
    const settings = path.join(dir, 'settings.json');
    const raw = JSON.parse((await fs.readFile(path.join(SAMPLE, '.vscode', 'settings.json'), 'utf8')).replace(/^\s*\/\/.*$/gm, ''));
    raw['heat.model.path'] = path.join(SAMPLE, 'model.onnx');
    raw['heat.statistics.path'] = config['heat.statistics.path'];
    for (const key of Object.keys(raw)) if (/^heat\.data\.\w+\.(images|labels)$/.test(key)) raw[key] = path.join(SAMPLE, raw[key]);
    await fs.writeFile(settings, JSON.stringify(raw));
    const printed: string[] = [];
    const context = { log: memoryLogger(), progress: noProgress, signal: new AbortController().signal, cwd: dir, print: (l: string) => printed.push(l) };
    const code = await checklistCommand.run(['--config', settings, '--phase', '5', '--images', '2', '--json'], context);
    const parsed = JSON.parse(printed.join('\n')) as CheckResult[];
    assert.deepEqual(parsed.map((r) => r.id), CHECKS.filter((c) => c.phase === 5).map((c) => c.id));
    assert.equal(code, parsed.some((r) => r.status === 'fail') ? 1 : 0);
  });
});

describe('checklist titles match the guide\'s checklist lines', () => {
  it('each line of the guide\'s phase checklists receives the check of its own phase', async function () {
    if (!existsSync(GUIDE)) {
      console.log(`      ${GUIDE} is absent, so the matching cannot be checked`);
      this.skip();
    }
    const lines = parseChecklist(await fs.readFile(GUIDE, 'utf8')).filter((l) => l.phase !== undefined && l.phase <= 6);
    const matches = matchChecklist(CHECKS, lines);
    const phaseOf = new Map(CHECKS.map((c) => [c.id, c.phase]));
    const wrong = matches.filter((m) => phaseOf.get(m.checkId) !== m.line.phase).map((m) => `${m.checkId} → line ${m.line.line + 1} (phase ${m.line.phase})`);
    assert.deepEqual(wrong, []);
    // Every guide line, in order, receives the check written for it; only the dominance check has no guide line.
    const byLine = [...matches].sort((a, b) => a.line.line - b.line.line).map((m) => m.checkId);
    assert.equal(lines.length, 26);
    assert.deepEqual(byLine, CHECKS.map((c) => c.id).filter((id) => id !== 'phase5.dominance'));
    const on = (keyword: RegExp) => matches.find((m) => keyword.test(m.line.text))?.checkId;
    assert.equal(on(/\(padding\)/), 'phase4.padding-edge');
    assert.equal(on(/non-negative/), 'phase3.distance-nonnegative');
    assert.equal(on(/positive definite/), 'phase2.covariance-definite');
    assert.equal(on(/Weights sum/), 'phase5.weights-sum');
    assert.equal(on(/Threshold selection/), 'phase1.threshold-validation');
  });
});
