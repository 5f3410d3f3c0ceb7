/**
 * Binds each engine job to the core function that runs it. Core functions take the validated config and
 * JobOptions (log, progress, signal) and do not depend on processes.
 * This file adds what the engine process needs around them: scoring sessions cached per configuration,
 * the provider report and streamed sweep rows.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { HeatConfig } from '../core/config';
import { HeatError } from '../core/errors';
import { runChecklist } from '../core/checklist';
import type { Logger } from '../core/log';
import { listTensors, loadModel } from '../core/model';
import { evaluate } from '../core/pipeline/evaluate';
import { scoreImages } from '../core/pipeline/score';
import { HeatSession } from '../core/pipeline/session';
import { computeStatistics } from '../core/stats';
import { runAblation, runSweep } from '../core/sweep';
import { attachGroundTruth } from './groundTruth';
import type { EngineHandlers, JobContext } from './server';

/** Settings that change nothing inside an open session: display and checklist placement. */
const OUTSIDE_SESSION = /^heat\.(viewer|checklist|sweep|ablation)\./;

/**
 * Cache of the open HEAT session (model, chosen layer, statistics) of the latest configuration fingerprint.
 * A session contains the onnxruntime sessions and the inverted statistics, so reusing it saves their set-up
 * time on every image. A different fingerprint, or a settings change reported by the host, releases it.
 */
export class SessionCache {
  private entry?: { key: string; session: Promise<HeatSession> };

  /**
   * Hashes the settings a session depends on and the modification times of the model and statistics
   * files, so that a rewritten statistics file (Compute Class Statistics) opens a new session.
   */
  static async fingerprint(config: HeatConfig): Promise<string> {
    const relevant = Object.keys(config).filter((k) => k.startsWith('heat.') && !OUTSIDE_SESSION.test(k)).sort();
    const files = await Promise.all(['heat.model.path', 'heat.statistics.path'].map((k) => modifiedTime(config[k])));
    return createHash('sha256').update(JSON.stringify([relevant.map((k) => [k, config[k]]), files])).digest('hex');
  }

  async get(config: HeatConfig, log: Logger): Promise<HeatSession> {
    const key = await SessionCache.fingerprint(config);
    if (this.entry?.key !== key) {
      await this.clear();
      const session = HeatSession.open(config, { log, probabilities: true });
      this.entry = { key, session };
      // A session that failed to open is not kept, so the next job retries with the same settings.
      session.catch(() => { if (this.entry?.session === session) this.entry = undefined; });
    }
    return this.entry.session;
  }

  async clear(): Promise<void> {
    const old = this.entry;
    this.entry = undefined;
    if (old) await old.session.then((s) => s.release(), () => undefined);
  }
}

/** Modification time of a file in milliseconds; null when the path is empty or the file is missing. */
async function modifiedTime(file: unknown): Promise<number | null> {
  if (typeof file !== 'string' || file === '') return null;
  try {
    return (await stat(file)).mtimeMs;
  } catch {
    return null;
  }
}

function jobOptions(context: JobContext) {
  return { log: context.log, progress: context.progress, signal: context.signal };
}

export function createHandlers(): EngineHandlers {
  const sessions = new SessionCache();
  return {
    async score(config, job, context) {
      const session = await sessions.get(config, context.log);
      context.setProvider(session.executionProvider);
      const scored = await scoreImages(config, job.images, { ...jobOptions(context), outDir: job.outDir, session, forViewer: true });
      await attachGroundTruth(config, scored.results, context.log);
      return scored;
    },
    statistics: (config, job, context) => computeStatistics(config, { ...jobOptions(context), out: job.out, split: job.split }),
    async evaluate(config, job, context) {
      const result = await evaluate(config, { ...jobOptions(context), outDir: job.outDir, split: job.split, saveScores: job.saveScores });
      context.setProvider(result.executionProvider);
      return result;
    },
    async inspect(config, job, context) {
      const file = job.model || (config['heat.model.path'] as string);
      if (!file) throw new HeatError('No model to inspect: heat.model.path is empty.', 'Set heat.model.path to your ONNX model.', 'heat.model.path');
      return listTensors(await loadModel(file), { log: context.log });
    },
    async sweep(config, job, context) {
      const result = await runSweep(config, job.grid, { ...jobOptions(context), outDir: job.outDir, onRow: context.onRow });
      context.setProvider(result.executionProvider);
      return result;
    },
    async ablation(config, job, context) {
      const result = await runAblation(config, job.ablation, { ...jobOptions(context), outDir: job.outDir, onRow: context.onRow });
      context.setProvider(result.executionProvider);
      return result;
    },
    checklist: (config, job, context) => runChecklist(config, { ...jobOptions(context), phase: job.phase, onResult: context.onCheck }),
    invalidate: () => { void sessions.clear(); },
  };
}
