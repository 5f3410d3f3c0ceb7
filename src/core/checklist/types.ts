/**
 * A validation check: one item of the per-phase checklists, measured on the user's model and data.
 * A check reads what it needs from the shared measurements (see measure.ts) and returns a status with
 * numeric evidence. `runChecklist` adds the id, phase, title and settings.
 */
import type { CheckResult, CheckStatus } from '../api';
import type { Measurements } from './measure';

/** Result of one check run. `settings` adds keys beyond the definition's own (for example the one a fix changes). */
export interface CheckOutcome {
  status: CheckStatus;
  evidence: string;
  fix?: CheckResult['fix'];
  settings?: string[];
}

export interface CheckDefinition {
  /** "phaseN.topic"; the words after the dot help the extension match checklist lines. */
  id: string;
  phase: number;
  /** The checklist line this check measures, in the project's own words. */
  title: string;
  /** `heat.*` keys the check concerns. */
  settings: string[];
  run(measured: Measurements): Promise<CheckOutcome>;
}

/** Phase names, for printing. */
export const PHASE_NAMES: Record<number, string> = {
  1: 'Energy score and metrics',
  2: 'Class feature statistics',
  3: 'Mahalanobis distance',
  4: 'Spatial consistency',
  5: 'Combination and normalization',
  6: 'Whole pipeline',
};

export const pass = (evidence: string, extra: Partial<CheckOutcome> = {}): CheckOutcome => ({ status: 'pass', evidence, ...extra });
export const warn = (evidence: string, extra: Partial<CheckOutcome> = {}): CheckOutcome => ({ status: 'warn', evidence, ...extra });
export const fail = (evidence: string, extra: Partial<CheckOutcome> = {}): CheckOutcome => ({ status: 'fail', evidence, ...extra });
export const skip = (evidence: string, extra: Partial<CheckOutcome> = {}): CheckOutcome => ({ status: 'skip', evidence, ...extra });

/** Formats a number for evidence: 4 significant digits, exponent form for very small or large magnitudes. */
export function num(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Infinity' : '-Infinity';
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e5 || magnitude < 1e-3) return value.toExponential(2);
  return String(Number(value.toPrecision(4)));
}

/** Formats a fraction as a percentage with one decimal: 0.1059 → "10.6 %". */
export function pct(value: number): string {
  return `${(100 * value).toFixed(1)} %`;
}

/** Formats bytes in binary units: 2097152 → "2.0 MiB". */
export function bytes(value: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = value;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}
