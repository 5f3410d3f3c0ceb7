import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { EngineClient } from '../../src/extension/engineClient';
import { EngineError, isEngineToHost, isHostToEngine, toWireError } from '../../src/protocol/engine';
import { makeConfig } from '../../src/core/config';
import { HeatError } from '../../src/core/errors';

const fakeEngine = path.join(__dirname, 'fixtures', 'fakeEngine.ts');
const config = makeConfig({}, process.cwd());

function client(logs: string[] = [], crashes: string[] = []): EngineClient {
  return new EngineClient({
    enginePath: fakeEngine,
    execArgv: ['--require', require.resolve('tsx/cjs')],
    cancelGraceMs: 1000,
    onLog: (level, message) => logs.push(`${level}: ${message}`),
    onCrash: (reason) => crashes.push(reason),
  });
}

describe('engine protocol', () => {
  let engine: EngineClient;
  afterEach(() => engine?.dispose());

  it('score result: a 720x1280 Float32Array map arrives as a typed array of 921,600 elements', async () => {
    engine = client();
    const providers: string[] = [];
    (engine as unknown as { options: { onProvider(p: string): void } }).options.onProvider = (p) => providers.push(p);
    const { results } = await engine.run(config, { kind: 'score', images: ['a.png'] });
    const energy = results[0].maps.energy!;
    assert.ok(energy.data instanceof Float32Array);
    assert.equal(energy.data.length, 921_600);
    assert.equal(energy.data[921_599], 921_599 * 0.5);
    assert.ok(results[0].prediction instanceof Int32Array);
    assert.deepEqual(providers, ['cpu']);
  });

  it('sweep: rows stream before the result', async () => {
    engine = client();
    const rows: unknown[] = [];
    const result = await engine.run(config, { kind: 'sweep', grid: { temperature: [1, 2, 3] } }, { onRow: (row) => rows.push(row.config) });
    assert.deepEqual(rows, [{ temperature: 1 }, { temperature: 2 }, { temperature: 3 }]);
    assert.deepEqual(result, { rows: 3 });
  });

  it('checklist: results stream before the result', async () => {
    engine = client();
    const streamed: string[] = [];
    const results = await engine.run(config, { kind: 'checklist', phase: 4 }, { onCheck: (r) => streamed.push(r.id) });
    assert.deepEqual(streamed, ['phase4.a', 'phase4.b']);
    assert.deepEqual(results.map((r) => r.id), streamed);
  });

  it('error: HeatError crosses the process with its fix', async () => {
    engine = client();
    await assert.rejects(engine.run(config, { kind: 'checklist' }), (error: EngineError) => {
      assert.equal(error.name, 'HeatError');
      assert.equal(error.fix, 'Run HEAT: Compute Class Statistics.');
      assert.equal(error.cancelled, false);
      return true;
    });
  });

  it('cancel: a job checking its signal stops with a cancelled error and the engine stays up', async () => {
    engine = client();
    const controller = new AbortController();
    const progress: number[] = [];
    const job = engine.run(config, { kind: 'statistics' }, { signal: controller.signal, onProgress: (done) => { progress.push(done); if (progress.length === 2) controller.abort(); } });
    await assert.rejects(job, (error: EngineError) => error.cancelled);
    const pid = engine.pid;
    assert.ok(pid);
    await engine.run(config, { kind: 'score', images: ['b.png'] });
    assert.equal(engine.pid, pid);
  });

  it('cancel: a job blocking the engine is ended by restarting the engine', async () => {
    const logs: string[] = [];
    engine = client(logs);
    const controller = new AbortController();
    const job = engine.run(config, { kind: 'evaluate' });
    const guarded = engine.run(config, { kind: 'evaluate' }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 300);
    await assert.rejects(guarded, (error: EngineError) => error.cancelled);
    await assert.rejects(job, (error: EngineError) => error.name === 'EngineCrashed');
    assert.ok(logs.some((l) => l.includes('did not stop within 1000 ms')));
    const { results } = await engine.run(config, { kind: 'score', images: ['c.png'] });
    assert.equal(results.length, 1);
  });

  it('crash: a dying engine fails the job, is reported, and the next job starts a new engine', async () => {
    const crashes: string[] = [];
    engine = client([], crashes);
    await engine.run(config, { kind: 'score', images: ['a.png'] });
    const firstPid = engine.pid;
    await assert.rejects(engine.run(config, { kind: 'inspect', model: 'm.onnx' }), /stopped unexpectedly \(exit code 3\)/);
    assert.equal(crashes.length, 1);
    assert.equal(engine.engineState, 'crashed');
    await engine.run(config, { kind: 'score', images: ['a.png'] });
    assert.notEqual(engine.pid, firstPid);
  });

  it('crash: killing the engine from outside is reported as a crash', async () => {
    const crashes: string[] = [];
    engine = client([], crashes);
    const job = engine.run(config, { kind: 'statistics' });
    await new Promise((r) => setTimeout(r, 500));
    process.kill(engine.pid!, 'SIGKILL');
    await assert.rejects(job, /signal SIGKILL/);
    assert.equal(crashes.length, 1);
  });

  it('guards: message narrowing rejects unknown shapes', () => {
    assert.equal(isHostToEngine({ type: 'run', id: 1 }), true);
    assert.equal(isHostToEngine({ type: 'result' }), false);
    assert.equal(isHostToEngine(null), false);
    assert.equal(isEngineToHost({ type: 'progress' }), true);
    assert.equal(isEngineToHost({ kind: 'result' }), false);
  });

  it('toWireError: keeps HeatError fix and marks CancelledError', () => {
    const wire = toWireError(new HeatError('Bad value 7 for heat.score.kernelSize.', 'Use an odd integer.', 'heat.score.kernelSize'));
    assert.equal(wire.fix, 'Use an odd integer.');
    assert.equal(wire.subject, 'heat.score.kernelSize');
    assert.equal(wire.cancelled, false);
    const cancelled = new Error('x');
    cancelled.name = 'CancelledError';
    assert.equal(toWireError(cancelled).cancelled, true);
    assert.equal(toWireError('plain').message, 'plain');
  });
});
