// Runs last: the browser made no request beyond loopback during the whole UI suite.
import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { closeWorkbench, env, workbench } from './workbench';

describe('network', () => {
  after(async () => {
    const { consoleLines } = await workbench();
    writeFileSync(path.join(env.artifacts, 'ui-console.log'), consoleLines.join('\n'));
    await closeWorkbench();
  });

  it('the workbench and webviews reached nothing beyond loopback', async () => {
    const { offLoopback } = await workbench();
    assert.deepEqual(offLoopback, [], 'requests beyond 127.0.0.1/localhost were attempted (and aborted)');
  });
});
