// The engine process dying in the middle of a job: the job ends with an error, the extension host lives on,
// and the next command starts a fresh engine.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { exercised, heatExtension, heatLog, runHeatCommand, sampleImages, until } from './util';

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

  it('killing the engine mid-job fails the job with an error and the next command restarts it', async () => {
    exercised.add('heat.runSweep');
    const mark = heatLog.mark();
    // a sweep over the sample's whole grid runs long enough to be interrupted
    const job = Promise.resolve(vscode.commands.executeCommand('heat.runSweep'));
    const started = await heatLog.waitFor(mark, /Run Sweep: started/, 30_000);
    assert.ok(started, 'the sweep did not start');
    const pids = await until(() => { const p = enginePids(); return p.length > 0 ? p : undefined; }, 30_000);
    assert.ok(pids, `no engine process under the extension host (pid ${process.pid})`);
    await until(() => heatLog.linesSince(mark).some((l) => /row|config|progress|\d+ \/ \d+/i.test(l)) || undefined, 5_000);
    for (const pid of pids) process.kill(pid, 'SIGKILL');

    await job;
    const errors = heatLog.errorsSince(mark);
    assert.ok(errors.length > 0, 'the killed job logged no error');
    assert.ok(!heatLog.linesSince(mark).some((l) => /Run Sweep: finished/.test(l)), 'the sweep claims to have finished');
    assert.ok(await until(() => enginePids().every((p) => !pids.includes(p)) || undefined, 10_000), 'the killed engine is still listed');

    const [image] = await sampleImages('test/images/*.png');
    const after = heatLog.mark();
    await runHeatCommand('heat.scoreImage', image);
    assert.ok(await heatLog.waitFor(after, new RegExp(`Scored .*${path.basename(image.fsPath).replace('.', '\\.')}`)), 'scoring after the crash failed');
    const fresh = enginePids();
    assert.ok(fresh.length > 0 && fresh.every((p) => !pids.includes(p)), `expected a new engine process, have ${fresh.join(', ')} (killed ${pids.join(', ')})`);
  });
});
