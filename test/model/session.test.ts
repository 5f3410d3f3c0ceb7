import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { HeatError } from '../../src/core/errors';
import { memoryLogger } from '../../src/core/log';
import { autoProviders, createSession, providerAvailable } from '../../src/core/model';
import { TINY } from './helpers';

describe('model/createSession', () => {
  it('auto order per platform ends with the CPU', () => {
    assert.deepEqual(autoProviders('linux'), ['cuda', 'cpu']);
    assert.deepEqual(autoProviders('win32'), ['dml', 'cpu']);
    assert.deepEqual(autoProviders('darwin'), ['coreml', 'cpu']);
  });

  it('auto returns and logs the provider that loaded', async () => {
    const log = memoryLogger();
    const { session, provider } = await createSession(readFileSync(TINY), 'auto', log, 'tiny');
    assert.ok(autoProviders().includes(provider));
    assert.ok(log.lines.some((l) => l.includes(`running on the ${provider} execution provider`)), log.lines.join('\n'));
    await session.release();
  });

  it('cpu runs everywhere', async () => {
    const { session, provider } = await createSession(readFileSync(TINY), 'cpu', memoryLogger());
    assert.equal(provider, 'cpu');
    await session.release();
  });

  it('missing CUDA provider says how to install it', async function () {
    if (providerAvailable('cuda')) {
      console.log('    skipped: the CUDA provider is installed here');
      this.skip();
    }
    await assert.rejects(createSession(readFileSync(TINY), 'cuda', memoryLogger()), (error: unknown) =>
      error instanceof HeatError && /"cuda" is not available/.test(error.message) && error.message.includes('npm install --onnxruntime-node-install=cuda12'));
  });

  it('provider of another platform is an error naming the setting', async function () {
    if (process.platform === 'win32') this.skip();
    await assert.rejects(createSession(readFileSync(TINY), 'dml', memoryLogger()), /"dml" is not available[^]*heat\.executionProvider/);
  });

  it('corrupt model bytes are a model error', async () => {
    await assert.rejects(createSession(readFileSync(TINY).subarray(0, 30000), 'cpu', memoryLogger(), 'cut.onnx'), /onnxruntime cannot load cut\.onnx/);
  });
});
