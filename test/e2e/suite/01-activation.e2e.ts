// The packaged extension, as installed from its VSIX, loads and registers what it contributes.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { contributedCommands, heatExtension, until } from './util';

describe('activation', () => {
  it('extension from the VSIX activates', async () => {
    const extension = heatExtension();
    await extension.activate();
    assert.equal(extension.isActive, true);
  });

  it('activation events name only HEAT commands and views', () => {
    const events: string[] = (heatExtension().packageJSON as { activationEvents?: string[] }).activationEvents ?? [];
    const broad = events.filter((e) => e === '*' || e === 'onStartupFinished' || (e.startsWith('onLanguage') && !/heat/i.test(e)));
    assert.deepEqual(broad, [], 'the engine starts lazily: activation must not be broad');
  });

  it('every contributed command is registered after activation', async () => {
    await heatExtension().activate();
    const wanted = contributedCommands().map((c) => c.command);
    const missing = await until(async () => {
      const registered = new Set(await vscode.commands.getCommands(true));
      const absent = wanted.filter((id) => !registered.has(id));
      return absent.length === 0 ? [] : undefined;
    }, 10_000);
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(missing ?? wanted.filter((id) => !registered.has(id)), []);
  });

  it('every contributed command is in the HEAT category', () => {
    const outside = contributedCommands().filter((c) => c.category !== 'HEAT').map((c) => c.command);
    assert.deepEqual(outside, []);
  });
});
