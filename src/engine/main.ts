/**
 * Entry point of the engine process, forked by the extension host with `serialization: 'advanced'`.
 * onnxruntime runs only here, so a native crash or an out-of-memory ends this process, never the host.
 */
import { EngineServer } from './server';
import { createHandlers } from './handlers';
import type { EngineToHost } from '../protocol/engine';

function send(message: EngineToHost): void {
  if (process.connected) process.send?.(message);
}

if (!process.send) {
  process.stderr.write('dist/engine.js is the HEAT Lens engine process; the VS Code extension starts it. For the command line use dist/cli.js.\n');
  process.exit(2);
}

const server = new EngineServer(send, createHandlers());
process.on('message', (message) => server.receive(message, () => setImmediate(() => process.exit(0))));
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', pid: process.pid, node: process.version });
