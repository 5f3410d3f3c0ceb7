// Runs last: every contributed command was run by one of the suites above, so a new command cannot slip
// in untested. Open Sample Workspace reopens the window, which would end this suite; the UI suite runs it.
import * as assert from 'node:assert/strict';
import { contributedCommands, exercised } from './util';

const RUN_BY_UI_SUITE = new Set(['heat.openSample']);

describe('command coverage', () => {
  it('every contributed command ran in the extension-host suite or is run by the UI suite', () => {
    const untested = contributedCommands().map((c) => c.command).filter((id) => !exercised.has(id) && !RUN_BY_UI_SUITE.has(id));
    assert.deepEqual(untested, []);
  });
});
