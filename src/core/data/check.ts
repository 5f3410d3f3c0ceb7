import type { JobOptions } from '../api';
import { HeatError, throwIfCancelled } from '../errors';
import { imageSize } from './images';
import { LabelAudit, loadLabel, type LabelMapping } from './labels';
import type { Sample } from './splits';

export interface CheckSplitOptions extends JobOptions {
  /** Compare each label's size with its image's (one header read per image). Default true. */
  checkSizes?: boolean;
  /** Warn when no label has an anomaly pixel (test and validation splits). */
  expectAnomaly?: boolean;
}

/**
 * Loads every label of a split once, before a long job needs them, so that all bad files are reported
 * together rather than one per run. Logs the pixel summary and the void-value warnings, and throws one
 * HeatError listing the failed files when any label is unreadable, mis-sized or out of the known set.
 */
export async function checkSplitLabels(samples: readonly Sample[], mapping: LabelMapping, options: CheckSplitOptions = {}): Promise<LabelAudit> {
  const audit = new LabelAudit();
  const failures: { label: string; message: string }[] = [];
  const labelled = samples.filter((s) => s.label !== undefined);

  for (const [index, sample] of labelled.entries()) {
    throwIfCancelled(options.signal, 'The label check');
    try {
      const expected = options.checkSizes === false ? undefined : { ...(await imageSize(sample.image)), image: sample.image };
      audit.add((await loadLabel(sample.label!, mapping, expected)).counts);
    } catch (error) {
      if (!(error instanceof HeatError)) throw error;
      failures.push({ label: sample.label!, message: error.message });
    }
    options.progress?.report(index + 1, labelled.length, 'checking labels');
  }

  options.log?.info(audit.summary());
  for (const line of audit.warnings(mapping, options.expectAnomaly)) options.log?.warn(line);
  if (failures.length > 0) {
    let message = `${failures.length} of ${labelled.length} label files failed the check. First: ${failures[0].message}`;
    if (failures.length > 1) {
      const others = failures.slice(1, 6).map((f) => f.label);
      if (failures.length > 6) others.push(`${failures.length - 6} more`);
      message += ` Also failed: ${others.join(', ')}.`;
    }
    throw new HeatError(message, undefined, failures[0].label);
  }
  return audit;
}
