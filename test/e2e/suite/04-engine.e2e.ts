// The engine process dying in the middle of a job: the job ends with an error, the extension host lives on,
// and the next command starts a fresh engine.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { FeatureMissing, exercised, feature, heatExtension, heatLog, runHeatCommand, sampleImages, until } from './util';

/** Engine processes forked by this extension host (the tests run inside it, so it is process.pid). */
function enginePids(): number[] {
  let out = '';
  try {
    out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  } catch {
    return []; // ps exits 1 when there are no children
  }
  return out.split('\n').filter((l) => /engine\.js/.test(l)).map((l) => Number(l.trim().split(/\s+/)[0]));
}

describe('engine crash and restart', () => {
  before(async () => {
    await heatExtension().activate();
  });

  feature('killing the engine mid-job fails the job with an error and the next command restarts it', async () => {
    exercised.add('heat.evaluate');
    const mark = heatLog.mark();
    let settled = false;
    // evaluating the test split takes seconds: long enough to be interrupted once the engine works on it
    const job = Promise.resolve(vscode.commands.executeCommand('heat.evaluate')).finally(() => { settled = true; });
    assert.ok(await heatLog.waitFor(mark, /Evaluate Test Set: started/, 30_000), 'the evaluation did not start');
    const pids = await until(() => { const p = enginePids(); return p.length > 0 ? p : undefined; }, 30_000);
    assert.ok(pids, `no engine process under the extension host (pid ${process.pid})`);
    assert.equal(settled, false, 'the evaluation ended before the engine could be killed');
    for (const pid of pids) process.kill(pid, 'SIGKILL');

    await job;
    const errors = heatLog.errorsSince(mark);
    if (errors.some((l) => /is not available in this engine build/.test(l))) throw new FeatureMissing(errors.join(' '));
    assert.ok(errors.some((l) => /stopped unexpectedly|SIGKILL|signal/i.test(l)), `the killed job logged no crash error; errors: ${errors.join(' | ')}`);
    assert.ok(!heatLog.linesSince(mark).some((l) => /Evaluate Test Set: finished/.test(l)), 'the evaluation claims to have finished');
    assert.ok(await until(() => enginePids().every((p) => !pids.includes(p)) || undefined, 10_000), 'the killed engine is still listed');

    const [image] = await sampleImages('test/images/*.png');
    const after = heatLog.mark();
    await runHeatCommand('heat.scoreImage', image);
    assert.ok(await heatLog.waitFor(after, new RegExp(`Scored .*${path.basename(image.fsPath).replace('.', '\\.')}`)), 'scoring after the crash failed');
    const fresh = enginePids();
    assert.ok(fresh.length > 0 && fresh.every((p) => !pids.includes(p)), `expected a new engine process, have ${fresh.join(', ')} (killed ${pids.join(', ')})`);
  });
});
