import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { MethodMetrics } from '../../src/core/api';
import { MethodEvaluation, MetricAccumulator } from '../../src/core/eval/metrics';
import { renderPrCurves, renderRocCurves, renderScoreHistogram } from '../../src/core/eval/plots';
import { judgeCriteria, Provenance, ReportJson, renderReportCsv, writeReport } from '../../src/core/eval/report';
import { formatMetricsTable } from '../../src/cli/commands/eval';

function provenance(thresholdSource: 'validation' | 'none' = 'validation'): Provenance {
  return {
    model: { path: 'models/deeplab.onnx', sha256: 'ab'.repeat(32) },
    statistics: { path: 'stats/deeplab.safetensors' },
    config: { source: 'heat.json', settings: { 'heat.score.temperature': 1 } },
    executionProvider: 'cpu',
    split: 'test',
    startedAt: '2026-12-04T20:00:00.000Z',
    durationSeconds: 12.5,
    thresholdSource,
  };
}

/** Case 1's two images (CASES.md 1), scored by `transform` of the case's scores. */
function caseOneEvaluation(method: string, transform: (s: number) => number, threshold?: number): MethodEvaluation {
  const accumulator = new MetricAccumulator(method);
  // 16 pixels of case 1 plus one ignored pixel per image.
  const labels = new Uint8Array(17);
  labels[5] = 1;
  labels[16] = 255;
  for (const base of [0, 10]) {
    const scores = new Float32Array(17).fill(transform(base));
    scores[5] = transform(base + 1);
    accumulator.add(scores, labels);
  }
  return accumulator.finish(threshold === undefined ? undefined : { value: threshold, source: 'validation' });
}

function metricsWith(aupr: number | null, fpr95: number, auroc: number): MethodMetrics {
  const v = (value: number | null) => (value === null ? { value, reason: 'no anomaly pixels' } : { value });
  return {
    method: 'heat',
    pooled: { aupr: v(aupr), fpr95: v(fpr95), auroc: v(auroc) },
    perImage: { aupr: v(null), fpr95: v(null), auroc: v(null), imagesUsed: 0, imagesSkipped: 0 },
  };
}

/** Checks that every opened SVG/XML tag is closed in order (a minimal well-formedness check). */
function assertBalancedTags(svg: string): void {
  const stack: string[] = [];
  for (const match of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = match;
    if (selfClosing) continue;
    if (closing) assert.equal(stack.pop(), name, `unbalanced </${name}>`);
    else stack.push(name);
  }
  assert.deepEqual(stack, []);
}

function label(svg: string, axis: 'x' | 'y'): string {
  return svg.match(new RegExp(`class="${axis}-label"[^>]*>([^<]*)<`))![1];
}

describe('eval/report: success criteria', () => {
  it('9 %, 24 %, 89.5 %: minimum met', () => {
    const judged = judgeCriteria(metricsWith(0.09, 0.24, 0.895));
    const status = (level: string, metric: string) => judged.find((j) => j.level === level && j.metric === metric)!.status;
    assert.deepEqual(['aupr', 'fpr95', 'auroc'].map((m) => status('minimum', m)), ['met', 'met', 'met']);
    assert.deepEqual(['aupr', 'fpr95', 'auroc'].map((m) => status('target', m)), ['not met', 'met', 'not met']);
    assert.deepEqual(['aupr', 'fpr95', 'auroc'].map((m) => status('stretch', m)), ['not met', 'not met', 'not met']);
  });

  it('stretch boundaries: met', () => {
    assert.ok(judgeCriteria(metricsWith(0.12, 0.2, 0.92)).every((j) => j.status === 'met'));
  });

  it('an undefined metric is judged undefined, not met or failed', () => {
    const judged = judgeCriteria(metricsWith(null, 0.3, 0.8));
    assert.ok(judged.filter((j) => j.metric === 'aupr').every((j) => j.status === 'undefined'));
  });
});

describe('eval/report: files', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'heat-report-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('case 1: all files, pooled and per-image', async () => {
    const heat = caseOneEvaluation('heat', (s) => s, 10.5);
    const inverted = caseOneEvaluation('max logit <inverted>', (s) => -s, -0.5);
    const files = await writeReport(dir, { methods: [heat, inverted], provenance: provenance() });

    const markdown = readFileSync(files.markdown, 'utf8');
    assert.match(markdown, /\| Method \| AUPR \| FPR95 \| AUROC \| AUPR per-image \| FPR95 per-image \| AUROC per-image \|/);
    // Case 1: pooled AUPR 55.88 %, FPR95 50 %, AUROC 75 %; per image 100 %, 0 %, 100 %.
    assert.match(markdown, /\| heat \| 55\.88 \| 50\.00 \| 75\.00 \| 100\.00 \| 0\.00 \| 100\.00 \| 2 \/ 0 \|/);
    assert.match(markdown, /first threshold, scanning from high scores down, where TPR >= 0\.95/);
    assert.match(markdown, /minimum \| ≥ 8 %: met \| ≤ 28 %: not met \| ≥ 89 %: not met/);
    assert.match(markdown, /SHA-256 abab/);
    assert.match(markdown, /max logit <inverted>: AUROC 25\.00 % is below chance, so the score is probably inverted/);
    assert.doesNotMatch(markdown, /heat: AUROC [0-9.]+ % is below chance/);
    assert.match(markdown, /30 known, 2 anomaly and 2 ignored pixels/);

    const json = JSON.parse(readFileSync(files.json, 'utf8')) as ReportJson;
    assert.equal(json.provenance.executionProvider, 'cpu');
    assert.deepEqual([json.pixels.known, json.pixels.anomaly, json.pixels.ignored], [30, 2, 2]);
    assert.equal(json.methods[0].metrics.pooled.auroc.value, 0.75);
    assert.equal(json.methods[0].metrics.threshold!.source, 'validation');
    assert.equal(json.criteria!.length, 9);

    assert.deepEqual(readdirSync(path.join(dir, 'plots')).sort(), ['histogram-heat.svg', 'histogram-max-logit-inverted.svg', 'pr-curves.svg', 'roc-curves.svg']);
    assert.ok(readdirSync(dir).every((f) => !f.includes('.tmp-')), 'no temporary files left');
  });

  it('csv: fractions, empty when undefined', () => {
    const heat = caseOneEvaluation('heat', (s) => s, 10.5);
    const empty = new MetricAccumulator('energy');
    empty.add(Float32Array.from([1, 2]), Uint8Array.from([0, 0]));
    const csv = renderReportCsv({ methods: [heat, empty.finish()], provenance: provenance() }).trim().split('\n');
    const header = csv[0].split(',');
    const rows = csv.slice(1).map((line) => Object.fromEntries(line.split(',').map((v, i) => [header[i], v])));
    assert.equal(rows.length, 2);
    assert.equal(Number(rows[0].pooled_aupr), 0.5588235294117647);
    assert.equal(rows[0].per_image_auroc, '1');
    assert.equal(rows[0].threshold, '10.5');
    // Threshold 10.5 on case 1: anomaly pixel of B (11) and every known pixel of B (10 < 10.5 no) → TP 1, FP 0.
    assert.deepEqual([rows[0].precision, rows[0].recall], ['1', '0.5']);
    assert.equal(rows[1].pooled_auroc, '');
  });

  it('no validation split: the report says no threshold is given and why', async () => {
    const files = await writeReport(dir, { methods: [caseOneEvaluation('heat', (s) => s)], provenance: provenance('none') });
    assert.match(readFileSync(files.markdown, 'utf8'), /No validation split is configured, so no threshold is reported/);
  });

  it('undefined metrics show n/a with the reason in report.md', async () => {
    const empty = new MetricAccumulator('energy');
    empty.add(Float32Array.from([1, 2]), Uint8Array.from([0, 0]));
    const files = await writeReport(dir, { methods: [empty.finish()], provenance: provenance() });
    const markdown = readFileSync(files.markdown, 'utf8');
    assert.match(markdown, /\| energy \| n\/a \| n\/a \| n\/a \|/);
    assert.match(markdown, /energy: n\/a because no anomaly pixels \(label 1\) among 2 evaluated pixels/);
    assert.match(markdown, /No method named "heat" was evaluated/);
  });
});

describe('eval/plots', () => {
  const evaluations = [caseOneEvaluation('heat', (s) => s), caseOneEvaluation('a<b & "c"', (s) => -s)];

  it('ROC and PR axis labels', () => {
    const roc = renderRocCurves(evaluations);
    const pr = renderPrCurves(evaluations);
    assert.equal(label(roc, 'x'), 'False positive rate');
    assert.equal(label(roc, 'y'), 'True positive rate');
    assert.match(label(pr, 'x'), /^Recall/);
    assert.equal(label(pr, 'y'), 'Precision');
  });

  it('SVGs are well formed and escape method names', () => {
    for (const svg of [renderRocCurves(evaluations), renderPrCurves(evaluations), renderScoreHistogram('a<b', evaluations[0].histogram!)]) {
      assertBalancedTags(svg);
      assert.ok(!svg.includes('a<b'), 'raw < in text');
    }
    assert.match(renderRocCurves(evaluations), /a&lt;b &amp; &quot;c&quot;/);
  });

  it('ROC curve of case 1 runs from the plot\'s bottom-left to its top-right corner', () => {
    const roc = renderRocCurves([evaluations[0]]);
    const points = roc.match(/<polyline[^>]*points="([^"]*)"/)![1].split(' ').map((p) => p.split(',').map(Number));
    // Plot area: x 70..460, y 40..420 (see plots.ts margins).
    assert.deepEqual(points[0], [70, 420]);
    assert.deepEqual(points[points.length - 1], [460, 40]);
  });

  it('score histogram counts every evaluated pixel once, known and anomaly apart', () => {
    const h = evaluations[0].histogram!;
    assert.equal(h.known.reduce((a, b) => a + b, 0), 30);
    assert.equal(h.anomaly.reduce((a, b) => a + b, 0), 2);
    assert.equal(h.edges.length, h.known.length + 1);
  });

  it('score histogram range reaches the tail of a small anomaly class', () => {
    const accumulator = new MetricAccumulator('energy');
    const scores = new Float32Array(1010);
    const labels = new Uint8Array(1010);
    for (let i = 0; i < 1000; i++) scores[i] = i / 1000;
    for (let i = 1000; i < 1010; i++) {
      scores[i] = 100 + (i - 1000);
      labels[i] = 1;
    }
    accumulator.add(scores, labels);
    const h = accumulator.finish().histogram!;
    assert.ok(h.edges[0] <= 0.001, `first edge ${h.edges[0]}`);
    assert.ok(h.edges[h.edges.length - 1] >= 109, `last edge ${h.edges[h.edges.length - 1]}`);
    assert.equal(h.clampedAbove, 0);
  });
});

describe('eval console table', () => {
  const value = (v: number, bound?: number) => ({ value: v, bound });
  const method = (name: string, computation: 'exact' | 'histogram', bounds: [number, number, number] | [] = []) => ({
    metrics: {
      method: name, computation,
      pooled: { aupr: value(0.0903, bounds[0]), fpr95: value(1, bounds[1]), auroc: value(0.5252, bounds[2]) },
      perImage: { aupr: value(0.1), fpr95: value(0.9), auroc: value(0.6), imagesUsed: 3, imagesSkipped: 0 },
    },
  }) as unknown as MethodEvaluation;

  it('wide histogram bounds are listed', () => {
    const text = formatMetricsTable([method('HEAT', 'exact'), method('Max softmax', 'histogram', [0.0012, 0.2739, 0.003])]);
    const lines = text.split('\n');
    assert.ok(lines.some((l) => l.startsWith('Max softmax *')), text);
    assert.ok(lines.some((l) => l.startsWith('HEAT ') && !l.includes('*')), text);
    assert.ok(lines.includes('  Max softmax: FPR95 ±27.39'), text);
    assert.match(text, /Raise heat\.eval\.maxExactPixels/);
  });

  it('narrow bounds print no note', () => {
    const text = formatMetricsTable([method('Max softmax', 'histogram', [0.001, 0.002, 0.0001])]);
    assert.doesNotMatch(text, /\*|maxExactPixels/);
  });
});
