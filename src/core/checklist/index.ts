/**
 * The per-phase validation checklist: one measured check per item of the guide's phase checklists.
 * `runChecklist` runs the checks of one phase or all of them, in order, and shares the expensive
 * measurements between them (measure.ts). Each result carries numbers as evidence and the `heat.*` keys it concerns.
 */
import type { CheckResult, JobOptions } from '../api';
import type { HeatConfig } from '../config';
import { CancelledError, HeatError, throwIfCancelled } from '../errors';
import { Measurements } from './measure';
import { PHASE1_CHECKS } from './phase1';
import { PHASE2_CHECKS } from './phase2';
import { PHASE3_CHECKS } from './phase3';
import { PHASE4_CHECKS } from './phase4';
import { PHASE5_CHECKS } from './phase5';
import { PHASE6_CHECKS } from './phase6';
import { PHASE_NAMES, type CheckDefinition, type CheckOutcome } from './types';

/** Every check, in phase order. */
export const CHECKS: readonly CheckDefinition[] = [
  ...PHASE1_CHECKS, ...PHASE2_CHECKS, ...PHASE3_CHECKS, ...PHASE4_CHECKS, ...PHASE5_CHECKS, ...PHASE6_CHECKS,
];

export interface ChecklistOptions extends JobOptions {
  /** Run only this phase (1–6). */
  phase?: number;
  /** Images scored for the map checks (default 8). */
  images?: number;
  /** Called as each check finishes, so a caller can show results before the run ends (or after a cancel). */
  onResult?: (result: CheckResult) => void;
}

/** Runs the checks of `options.phase` (all phases when omitted). Throws CancelledError when the signal fires. */
export async function runChecklist(config: HeatConfig, options: ChecklistOptions = {}): Promise<CheckResult[]> {
  const { phase } = options;
  if (phase !== undefined && !(Number.isInteger(phase) && PHASE_NAMES[phase])) {
    throw new HeatError(`There is no checklist phase ${phase}.`, 'Give a phase from 1 to 6.');
  }
  const checks = CHECKS.filter((c) => phase === undefined || c.phase === phase);
  const measured = new Measurements(config, options);
  const results: CheckResult[] = [];
  for (const check of checks) {
    throwIfCancelled(options.signal, 'The checklist');
    measured.log.debug(`Checklist: ${check.id}`);
    const outcome = await runOne(check, measured);
    const result = toResult(check, outcome);
    results.push(result);
    options.onResult?.(result);
  }
  return results;
}

/** Runs one check; a measurement error becomes a failed result naming the error and its fix. */
async function runOne(check: CheckDefinition, measured: Measurements): Promise<CheckOutcome> {
  try {
    return await check.run(measured);
  } catch (error) {
    if (error instanceof CancelledError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    const subject = error instanceof HeatError && error.subject?.startsWith('heat.') ? [error.subject] : [];
    return { status: 'fail', evidence: `Could not measure: ${message}`, settings: subject };
  }
}

function toResult(check: CheckDefinition, outcome: CheckOutcome): CheckResult {
  const settings = [...new Set([...check.settings, ...(outcome.settings ?? []), ...(typeof outcome.fix?.setting === 'string' ? [outcome.fix.setting] : [])])];
  const result: CheckResult = { id: check.id, phase: check.phase, title: check.title, status: outcome.status, evidence: outcome.evidence, settings };
  if (outcome.fix) result.fix = outcome.fix;
  return result;
}

const MARK: Record<CheckResult['status'], string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' };

/** The heat-lens command that does what a fix's VS Code command does, for the terminal. */
const CLI_EQUIVALENTS: Record<string, string> = {
  'heat.computeStatistics': '"heat-lens stats", or HEAT: Compute Class Statistics in VS Code',
  'heat.runSweep': '"heat-lens sweep", or HEAT: Run Sweep in VS Code',
};

/** Readable text: results grouped by phase, each with status, title, evidence, settings and fix, then a count line. */
export function formatChecklist(results: readonly CheckResult[]): string {
  const lines: string[] = [];
  let phase = 0;
  for (const r of results) {
    if (r.phase !== phase) {
      phase = r.phase;
      if (lines.length > 0) lines.push('');
      lines.push(`Phase ${phase}: ${PHASE_NAMES[phase] ?? ''}`);
    }
    lines.push(`  [${MARK[r.status]}] ${r.title}`);
    lines.push(`         ${r.evidence}`);
    if (r.settings.length > 0) lines.push(`         settings: ${r.settings.join(', ')}`);
    if (r.fix) {
      let action = '';
      if (r.fix.setting) action = `set ${r.fix.setting} to ${JSON.stringify(r.fix.value)}`;
      else if (r.fix.command) action = `run ${CLI_EQUIVALENTS[r.fix.command] ?? r.fix.command}`;
      lines.push(`         fix: ${r.fix.description}${action ? ` (${action})` : ''}`);
    }
  }
  lines.push('', summaryLine(results));
  return lines.join('\n');
}

/** "Checklist: 20 passed, 3 warnings, 1 failed, 2 skipped." */
export function summaryLine(results: readonly CheckResult[]): string {
  const count = (s: CheckResult['status']) => results.filter((r) => r.status === s).length;
  return `Checklist: ${count('pass')} passed, ${count('warn')} warnings, ${count('fail')} failed, ${count('skip')} skipped.`;
}

export { Measurements, type MeasureOptions } from './measure';
export { PHASE_NAMES, type CheckDefinition, type CheckOutcome } from './types';
