/**
 * onnxruntime sessions and execution providers. `auto` tries the platform's accelerated provider and
 * falls back to the CPU; an explicitly requested provider that cannot load is an error with install advice.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { HeatError } from '../errors';
import type { Logger } from '../log';

export type ProviderSetting = 'auto' | 'cuda' | 'dml' | 'coreml' | 'webgpu' | 'cpu';
export type ProviderName = Exclude<ProviderSetting, 'auto'>;

/** A session together with the provider it was created with. */
export interface ModelSession {
  session: ort.InferenceSession;
  /** Provider the session runs on; nodes the provider lacks still fall back to the CPU inside onnxruntime. */
  provider: ProviderName;
}

/**
 * Providers `auto` tries, in order. WebGPU is left out of `auto`: on machines without a GPU adapter it fails
 * slowly, and where it works the native provider of the platform is the faster choice. It can be requested.
 */
export function autoProviders(platform: NodeJS.Platform = process.platform): ProviderName[] {
  switch (platform) {
    case 'linux': return ['cuda', 'cpu'];
    case 'win32': return ['dml', 'cpu'];
    case 'darwin': return ['coreml', 'cpu'];
    default: return ['cpu'];
  }
}

const INSTALL_ADVICE: Record<ProviderName, string> = {
  cuda: 'Install the CUDA 12 build of onnxruntime in the extension or CLI folder with `npm install --onnxruntime-node-install=cuda12` (needs an NVIDIA driver with CUDA 12 and cuDNN 9), or set heat.executionProvider to "auto" or "cpu".',
  dml: 'DirectML ships with onnxruntime-node on Windows x64 only; on other systems set heat.executionProvider to "auto" or "cpu".',
  coreml: 'CoreML ships with onnxruntime-node on macOS only; on other systems set heat.executionProvider to "auto" or "cpu".',
  webgpu: 'WebGPU needs a GPU adapter (Vulkan on Linux, Direct3D 12 on Windows, Metal on macOS); install the GPU driver or set heat.executionProvider to "auto" or "cpu".',
  cpu: 'Reinstall the package (`npm ci`), since the CPU provider is part of every onnxruntime-node build.',
};

/** Folder holding the onnxruntime native binding, where provider libraries such as CUDA's are installed. */
function bindingFolder(): string | undefined {
  try {
    const entry = require.resolve('onnxruntime-node');
    return path.join(path.dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return undefined;
  }
}

/**
 * Whether a provider can possibly load here, checked without creating a session: it must be compiled into the
 * binding, and providers shipped as separate libraries (CUDA) must have their library installed. Checking first
 * keeps onnxruntime from printing its own load-failure lines to stderr on every `auto` start.
 */
export function providerAvailable(provider: ProviderName): boolean {
  if (provider === 'cpu') return true;
  const backend = ort.listSupportedBackends().find((b) => b.name === provider);
  if (!backend) return false;
  if (backend.bundled) return true;
  const folder = bindingFolder();
  const library = process.platform === 'win32' ? `onnxruntime_providers_${provider}.dll` : `libonnxruntime_providers_${provider}.so`;
  return folder !== undefined && existsSync(path.join(folder, library));
}

/** Session settings beyond the provider. */
export interface SessionTuning {
  /**
   * Whether onnxruntime's intra-op threads spin while waiting for work. It is off unless set, although
   * onnxruntime's own default is on. Every loop here does JavaScript and sharp work between runs, often beside a
   * second session, and spinning threads hold the cores that work needs. On a 2-core machine, turning it off
   * saved about 10 ms per image of the statistics pass's label and moment work. Scoring 20 RoadAnomaly frames
   * with DeepLabV3 took 1.8 instead of 2.0 s. Its bare forward pass took 11 instead of 15 ms when a second
   * session ran in turn with it (all measured).
   */
  spinning?: boolean;
}

function sessionOptions(provider: ProviderName, tuning: SessionTuning): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    // Warnings such as "some nodes were not assigned to the preferred execution providers" are expected and noisy,
    // and a failed run's error reaches the caller as an exception with the same text, so only fatal errors are logged.
    logSeverityLevel: 4,
    // NOTE: the default (no spinning) was measured on 2 cores only; with many cores a single run may gain more from spinning.
    extra: { session: { intra_op: { allow_spinning: tuning.spinning === true ? '1' : '0' } } },
  };
}

/**
 * Creates a session on the requested provider. `auto` walks autoProviders() and returns the first that
 * loads; the provider used is logged. A failure on the CPU is reported as a model error, since the model
 * itself is then what onnxruntime rejects.
 */
export async function createSession(
  model: Uint8Array, setting: ProviderSetting, log: Logger, label = 'model', tuning: SessionTuning = {},
): Promise<ModelSession> {
  if (setting !== 'auto') {
    if (!providerAvailable(setting)) {
      throw new HeatError(`Execution provider "${setting}" is not available in this onnxruntime-node installation.`, INSTALL_ADVICE[setting], 'heat.executionProvider');
    }
    const session = await createOn(model, setting, label, true, tuning);
    log.info(`${label}: running on the ${setting} execution provider.`);
    return { session, provider: setting };
  }

  const failures: string[] = [];
  for (const provider of autoProviders()) {
    if (!providerAvailable(provider)) { failures.push(`${provider} not installed`); continue; }
    try {
      const session = await createOn(model, provider, label, provider === 'cpu', tuning);
      const skipped = failures.length > 0 ? ` (${failures.join('; ')})` : '';
      log.info(`${label}: running on the ${provider} execution provider${skipped}.`);
      return { session, provider };
    } catch (error) {
      if (provider === 'cpu') throw error;
      failures.push(`${provider} failed: ${firstLine(error)}`);
    }
  }
  throw new Error('unreachable: the CPU provider ends the auto list');
}

async function createOn(
  model: Uint8Array, provider: ProviderName, label: string, rethrowAsModelError: boolean, tuning: SessionTuning,
): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(model, sessionOptions(provider, tuning));
  } catch (error) {
    if (!rethrowAsModelError) throw error;
    if (provider !== 'cpu') {
      throw new HeatError(`Execution provider "${provider}" failed to start for ${label}: ${firstLine(error)}.`, INSTALL_ADVICE[provider], 'heat.executionProvider');
    }
    throw new HeatError(`onnxruntime cannot load ${label}: ${firstLine(error)}.`, 'Check that the file is a complete ONNX model that onnxruntime supports (opset 7 or newer).', label);
  }
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0].trim().replace(/\.$/, '');
}
