/**
 * Placement of each checklist result as a diagnostic: on the `heat.*` keys of `.vscode/settings.json` it
 * concerns (ranges from jsonc-parser, so comments and trailing commas are fine) and on the matching
 * checklist line of Markdown files. Pure: positions are 0-based line/character pairs, turned into
 * `vscode.Range`s by diagnostics.ts.
 */
import { Node, ParseError, parseTree } from 'jsonc-parser';
import type { CheckResult, CheckStatus } from '../core/api';
import { ChecklistLine, matchChecklist, parseChecklist } from './checklistMatch';

export interface Position { line: number; character: number }
export interface Span { start: Position; end: Position }

export type Severity = 'error' | 'warning' | 'information';

export interface Placement {
  file: string;
  span: Span;
  severity: Severity;
  message: string;
  checkId: string;
  status: CheckStatus;
  /** Setting key for a settings.json placement. */
  key?: string;
  /** Checklist line for a Markdown placement, for the "tick the box" quick fix. */
  checklistLine?: ChecklistLine;
}

/** Converts a character offset to a line/character position. */
export function positionAt(text: string, offset: number): Position {
  let line = 0;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) { line++; lineStart = i + 1; }
  }
  return { line, character: offset - lineStart };
}

/**
 * Spans of top-level settings keys in a settings.json text: from the key's opening quote to the end of
 * its value. Keys not present are absent from the map; unparsable text gives an empty map.
 */
export function findSettingSpans(text: string, keys: Iterable<string>): Map<string, Span> {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  const spans = new Map<string, Span>();
  if (!root || root.type !== 'object') return spans;
  const requested = new Set(keys);
  for (const property of root.children ?? []) {
    const [keyNode, valueNode] = property.children ?? [];
    if (!keyNode || typeof keyNode.value !== 'string' || !requested.has(keyNode.value)) continue;
    const end: Node = valueNode ?? keyNode;
    spans.set(keyNode.value, { start: positionAt(text, keyNode.offset), end: positionAt(text, end.offset + end.length) });
  }
  return spans;
}

export function severityOf(status: CheckStatus): Severity | undefined {
  switch (status) {
    case 'fail': return 'error';
    case 'warn': return 'warning';
    case 'pass': return 'information';
    case 'skip': return undefined;
  }
}

/** Diagnostic text: status, title, evidence and the fix when there is one. */
export function messageOf(result: CheckResult): string {
  const fix = result.fix ? ` Fix: ${result.fix.description}` : '';
  return `HEAT check ${result.status}: ${result.title}. ${result.evidence}${fix}`;
}

export interface PlacementInput {
  results: readonly CheckResult[];
  /** `.vscode/settings.json`, when the workspace has one. */
  settings?: { file: string; text: string };
  markdown: readonly { file: string; text: string }[];
  showPassed: boolean;
}

/** Places every non-skipped result; passed ones only when `showPassed`. */
export function placeResults(input: PlacementInput): Placement[] {
  const visible = input.results.filter((r) => severityOf(r.status) && (input.showPassed || r.status !== 'pass'));
  const byId = new Map(visible.map((r) => [r.id, r]));
  // Match against every result, so a hidden passed check still keeps its own line from other checks.
  const all = input.results;
  const placements: Placement[] = [];

  if (input.settings) {
    const spans = findSettingSpans(input.settings.text, visible.flatMap((r) => r.settings));
    for (const result of visible) {
      for (const key of result.settings) {
        const span = spans.get(key);
        if (span) placements.push(place(input.settings.file, span, result, { key }));
      }
    }
  }

  for (const doc of input.markdown) {
    const lines = parseChecklist(doc.text);
    if (lines.length === 0) continue;
    for (const match of matchChecklist(all, lines)) {
      const result = byId.get(match.checkId);
      if (!result) continue;
      const span = { start: { line: match.line.line, character: match.line.textStart }, end: { line: match.line.line, character: match.line.textStart + match.line.text.length } };
      placements.push(place(doc.file, span, result, { checklistLine: match.line }));
    }
  }
  return placements;
}

function place(file: string, span: Span, result: CheckResult, extra: Pick<Placement, 'key' | 'checklistLine'>): Placement {
  return { file, span, severity: severityOf(result.status)!, message: messageOf(result), checkId: result.id, status: result.status, ...extra };
}
