/**
 * Finds the Markdown checklist line (`- [ ]` / `- [x]`) that a validation check measures. People reword
 * such lines, so matching compares meaning rather than text.
 * Words are normalised (case, plural and tense endings, British/American spelling) and mapped to shared
 * concepts through a synonym table. Token sets are then compared by cosine similarity with idf weights.
 * A line under a "Phase N" heading prefers checks of phase N. Each check takes at most one line per file
 * and each line at most one check, best pairs first. This file has no `vscode` import, so it is unit-tested.
 */

/** A `- [ ]` or `- [x]` line of a Markdown file. */
export interface ChecklistLine {
  /** 0-based line number. */
  line: number;
  /** Column of the text after the box. */
  textStart: number;
  text: string;
  checked: boolean;
  /** Column of the character inside the brackets, for ticking the box. */
  boxColumn: number;
  /** Phase number from the nearest heading above that names one, if any. */
  phase?: number;
}

/** Fields of a check result that the matcher reads. */
export interface CheckDescriptor {
  id: string;
  phase: number;
  title: string;
}

export interface LineMatch {
  checkId: string;
  line: ChecklistLine;
  score: number;
}

const BOX = /^(\s*(?:[-*+]|\d+[.)])\s+\[)([ xX])\]\s+(.*\S)\s*$/;
const FENCE = /^\s*(```|~~~)/;
const HEADING = /^\s{0,3}#{1,6}\s+(.*)$/;
const PHASE = /\b(?:phase|step|stage|part)\s*(\d+)/i;

/** Lists checklist lines outside fenced code, each with the phase of its section. */
export function parseChecklist(text: string): ChecklistLine[] {
  const lines = text.split(/\r?\n/);
  const found: ChecklistLine[] = [];
  let inFence = false;
  let phase: number | undefined;
  lines.forEach((raw, index) => {
    if (FENCE.test(raw)) { inFence = !inFence; return; }
    if (inFence) return;
    const heading = HEADING.exec(raw);
    if (heading) {
      const named = PHASE.exec(heading[1]);
      // A heading naming a phase starts that phase; a top-level heading without one ends it.
      if (named) phase = Number(named[1]);
      else if (/^\s{0,3}##?\s/.test(raw)) phase = undefined;
      return;
    }
    const box = BOX.exec(raw);
    if (!box) return;
    found.push({
      line: index,
      textStart: raw.indexOf(box[3], box[1].length + 2),
      text: box[3],
      checked: box[2] !== ' ',
      boxColumn: box[1].length,
      phase,
    });
  });
  return found;
}

const STOP_WORDS = new Set([
  'a', 'an', 'the', 'is', 'are', 'be', 'been', 'of', 'for', 'to', 'in', 'on', 'and', 'or', 'with', 'from', 'at', 'by',
  'as', 'if', 'it', 'its', 'that', 'this', 'these', 'those', 'after', 'before', 'few', 'all', 'has', 'have', 'verify',
  'check', 'checked', 'properly', 'successfully', 'needed', 'need', 'consider', 'use', 'using',
  'via', 'per', 'each', 'every', 'must', 'should', 'so', 'than', 'then', 'when', 'where', 'not', 'no', 'does', 'do',
  'e', 'g', 'eg', 'ie', 'we', 'you', 'your', 'our', 'there', 'here', 'into', 'over', 'under', 'within', 'between',
]);

/**
 * Words that name the same idea, mapped to one concept token. Keys are normalised stems (see `stem`).
 * Generic words (score, compute) stay as they are and are down-weighted by idf instead.
 */
const CONCEPTS: Record<string, string> = {
  logsumexp: 'energy', 'free-energy': 'energy',
  cov: 'covariance', covariance: 'covariance', scatter: 'covariance',
  positive: 'definite', definite: 'definite', pd: 'definite', eigenvalue: 'definite', eigen: 'definite',
  invertible: 'definite', inverse: 'definite', inversion: 'definite', invert: 'definite', condition: 'definite', singular: 'definite', cholesky: 'definite',
  pad: 'padding', padding: 'padding', edge: 'padding', border: 'padding', boundary: 'padding', corner: 'padding',
  kl: 'spatial', divergence: 'spatial', neighbourhood: 'spatial', neighborhood: 'spatial', consistency: 'spatial', spatial: 'spatial',
  weight: 'weight', reliability: 'weight',
  normalize: 'normalize', normalization: 'normalize', standardize: 'normalize', adaptive: 'normalize',
  ema: 'ema', moving: 'ema', momentum: 'ema', alpha: 'ema',
  stabilize: 'stable', stable: 'stable', converge: 'stable', settle: 'stable', drift: 'stable', steady: 'stable',
  metric: 'metric', aupr: 'aupr', ap: 'aupr', precision: 'aupr', auroc: 'auroc', roc: 'auroc', fpr95: 'fpr95', fpr: 'fpr95',
  threshold: 'threshold', cutoff: 'threshold',
  validation: 'validation', val: 'validation',
  baseline: 'baseline', maxlogit: 'baseline', 'max-logit': 'baseline',
  memory: 'memory', ram: 'memory', oom: 'memory', gb: 'memory', footprint: 'memory',
  feature: 'feature', layer: 'feature', activation: 'feature', channel: 'feature',
  shape: 'shape', dimension: 'shape', size: 'shape', resolution: 'shape', dim: 'shape',
  range: 'range', reasonable: 'range', finite: 'range', magnitude: 'range', nan: 'range',
  mean: 'mean', centroid: 'mean', average: 'mean',
  negative: 'negative', nonnegative: 'negative', 'non-negative': 'negative', sqrt: 'negative', clamp: 'negative',
  minimum: 'minimum', min: 'minimum', closest: 'minimum', nearest: 'minimum', smallest: 'minimum',
  save: 'save', sav: 'save', write: 'save', writ: 'save', written: 'save', file: 'save', store: 'save', safetensor: 'save', load: 'save', reload: 'save',
  correct: 'correct', correctly: 'correct', reference: 'correct', agree: 'correct', exact: 'correct', accurate: 'correct', match: 'correct',
  anomaly: 'anomaly', anomalie: 'anomaly', ood: 'anomaly', unknown: 'anomaly', outlier: 'anomaly',
  lower: 'lower', less: 'lower', smaller: 'lower',
  integrate: 'pipeline', integration: 'pipeline', component: 'pipeline', pipeline: 'pipeline', 'end-to-end': 'pipeline', end: 'pipeline',
  combine: 'combine', combination: 'combine', combined: 'combine', fuse: 'combine', fusion: 'combine', heat: 'combine',
  target: 'target', goal: 'target', criterion: 'target', criteria: 'target', meet: 'target',
  speed: 'speed', slow: 'speed', fast: 'speed', latency: 'speed', throughput: 'speed', optimization: 'speed', optimize: 'speed',
  sum: 'sum', one: 'sum', '1': 'sum', '10': 'sum',
  class: 'class', classe: 'class',
  distance: 'distance', mahalanobis: 'distance',
  format: 'metric',
};

/** Light stemmer: enough to equate plural, tense and British/American forms, not a full Porter stemmer. */
export function stem(word: string): string {
  let w = word.toLowerCase().replace(/ise$/, 'ize').replace(/isation$/, 'ization').replace(/ised$/, 'ized').replace(/ising$/, 'izing');
  if (w.length > 4 && w.endsWith('ies')) w = `${w.slice(0, -3)}y`;
  else if (w.length > 4 && (w.endsWith('ing') || w.endsWith('ed'))) {
    const base = w.replace(/(ing|ed)$/, '');
    w = /iz$/.test(base) ? `${base}e` : base.endsWith('at') ? `${base}e` : base;
  } else if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss')) w = w.slice(0, -1);
  return w;
}

/** Normalised concept tokens of a text, without duplicates. */
export function tokens(text: string): string[] {
  const plain = text
    .replace(/`([^`]*)`/g, ' $1 ')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, ' $1 ')
    .replace(/max[\s_-]+logits?/gi, ' maxlogit ')
    .replace(/non[\s-]+negative/gi, ' nonnegative ')
    .replace(/end[\s-]+to[\s-]+end/gi, ' end-to-end ')
    .replace(/fpr\s*@?\s*95/gi, ' fpr95 ')
    .replace(/positive[\s-]+definite/gi, ' definite ')
    .replace(/sums? to (?:1(?:\.0+)?|one)\b/gi, ' sum ')
    .toLowerCase();
  // Hyphenated words stay whole when they name a concept ("end-to-end"), else split ("8-12" → "8", "12").
  const words = plain.split(/[^a-z0-9-]+/).flatMap((w) => (w in CONCEPTS ? [w] : w.split('-'))).filter(Boolean);
  const result = new Set<string>();
  for (const word of words) {
    if (STOP_WORDS.has(word)) continue;
    const s = stem(word);
    if (STOP_WORDS.has(s) || /^\d+(\.\d+)?%?$/.test(s) && !(s in CONCEPTS)) continue;
    result.add(CONCEPTS[s] ?? CONCEPTS[word] ?? s);
  }
  return [...result];
}

/** Tokens of a check: its title plus the words of its id (ids like "phase3.distance-nonnegative" carry meaning). */
function checkTokens(check: CheckDescriptor): string[] {
  const fromId = check.id.replace(/^phase\d+[.:/-]?/i, '').replace(/[._/-]+/g, ' ');
  return [...new Set([...tokens(check.title), ...tokens(fromId)])];
}

/** Cosine similarity of two token sets with idf weights. */
function similarity(a: readonly string[], b: readonly string[], idf: (t: string) => number): number {
  const setB = new Set(b);
  let shared = 0;
  let normA = 0;
  let normB = 0;
  for (const t of a) { const w = idf(t); normA += w * w; if (setB.has(t)) shared += w * w; }
  for (const t of b) { const w = idf(t); normB += w * w; }
  return normA > 0 && normB > 0 ? shared / Math.sqrt(normA * normB) : 0;
}

/** Score bonus when the line's section names the check's phase, penalty when it names another. */
const SAME_PHASE_BONUS = 0.2;
const OTHER_PHASE_PENALTY = 0.25;
/** Pairs scoring below this are not placed. */
export const MATCH_THRESHOLD = 0.3;

/**
 * Pairs checks with lines of one file. Returns at most one line per check and one check per line,
 * best-scoring pairs first, and only pairs scoring at least MATCH_THRESHOLD.
 */
export function matchChecklist(checks: readonly CheckDescriptor[], lines: readonly ChecklistLine[]): LineMatch[] {
  const checkTok = checks.map(checkTokens);
  const lineTok = lines.map((l) => tokens(l.text));
  const documents = [...checkTok, ...lineTok];
  const df = new Map<string, number>();
  for (const doc of documents) for (const t of doc) df.set(t, (df.get(t) ?? 0) + 1);
  const idf = (t: string) => Math.log(1 + documents.length / (df.get(t) ?? 1));

  const pairs: { c: number; l: number; score: number }[] = [];
  checks.forEach((check, c) => {
    lines.forEach((line, l) => {
      let score = similarity(checkTok[c], lineTok[l], idf);
      if (score === 0) return;
      if (line.phase !== undefined) score += line.phase === check.phase ? SAME_PHASE_BONUS : -OTHER_PHASE_PENALTY;
      if (score >= MATCH_THRESHOLD) pairs.push({ c, l, score });
    });
  });

  pairs.sort((x, y) => y.score - x.score);
  const usedChecks = new Set<number>();
  const usedLines = new Set<number>();
  const matches: LineMatch[] = [];
  for (const pair of pairs) {
    if (usedChecks.has(pair.c) || usedLines.has(pair.l)) continue;
    usedChecks.add(pair.c);
    usedLines.add(pair.l);
    matches.push({ checkId: checks[pair.c].id, line: lines[pair.l], score: pair.score });
  }
  return matches;
}
