/**
 * SVG plots of an evaluation, written as plain markup (no plotting library): PR curves and ROC curves of
 * all methods on one chart each, and a known-vs-anomaly score histogram per method.
 * Axes: ROC x = false positive rate, y = true positive rate; PR x = recall, y = precision (anomaly positive).
 */
import type { CurvePoint } from './sweep';
import type { MethodEvaluation, ScoreHistogram } from './metrics';

const WIDTH = 760;
const HEIGHT = 480;
const MARGIN = { left: 70, right: 300, top: 40, bottom: 60 };
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;
/** Colour-blind-safe palette (Okabe–Ito), one colour per method in order. */
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmt(value: number): string {
  return Number(value.toFixed(2)).toString();
}

interface Axis {
  min: number;
  max: number;
  label: string;
  ticks: number[];
}

const unitAxis = (label: string): Axis => ({ min: 0, max: 1, label, ticks: [0, 0.2, 0.4, 0.6, 0.8, 1] });

function sx(x: number, axis: Axis): number {
  return MARGIN.left + ((x - axis.min) / (axis.max - axis.min)) * PLOT_W;
}

function sy(y: number, axis: Axis): number {
  return MARGIN.top + PLOT_H - ((y - axis.min) / (axis.max - axis.min)) * PLOT_H;
}

function tickLabel(value: number): string {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  return magnitude >= 1e4 || magnitude < 1e-2 ? value.toExponential(1) : Number(value.toPrecision(3)).toString();
}

/** Frame, grid, ticks, axis labels and title. */
function frame(title: string, x: Axis, y: Axis): string[] {
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${MARGIN.left + PLOT_W / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`,
  ];
  for (const t of x.ticks) {
    const px = fmt(sx(t, x));
    parts.push(`<line x1="${px}" y1="${MARGIN.top}" x2="${px}" y2="${MARGIN.top + PLOT_H}" stroke="#e0e0e0"/>`);
    parts.push(`<text x="${px}" y="${MARGIN.top + PLOT_H + 18}" text-anchor="middle">${tickLabel(t)}</text>`);
  }
  for (const t of y.ticks) {
    const py = fmt(sy(t, y));
    parts.push(`<line x1="${MARGIN.left}" y1="${py}" x2="${MARGIN.left + PLOT_W}" y2="${py}" stroke="#e0e0e0"/>`);
    parts.push(`<text x="${MARGIN.left - 8}" y="${py}" text-anchor="end" dominant-baseline="middle">${tickLabel(t)}</text>`);
  }
  parts.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${PLOT_W}" height="${PLOT_H}" fill="none" stroke="#333333"/>`);
  parts.push(`<text class="x-label" x="${MARGIN.left + PLOT_W / 2}" y="${HEIGHT - 18}" text-anchor="middle">${escapeXml(x.label)}</text>`);
  const yMid = MARGIN.top + PLOT_H / 2;
  parts.push(`<text class="y-label" x="20" y="${yMid}" text-anchor="middle" transform="rotate(-90 20 ${yMid})">${escapeXml(y.label)}</text>`);
  return parts;
}

/** Method names longer than this are shortened with an ellipsis in legends so they stay inside the image. */
const NAME_CHARS = 28;

function shortName(method: string): string {
  return method.length > NAME_CHARS ? `${method.slice(0, NAME_CHARS - 1)}…` : method;
}

function legend(entries: { label: string; color: string }[]): string[] {
  const x = MARGIN.left + PLOT_W + 14;
  return entries.flatMap((entry, i) => {
    const y = MARGIN.top + 10 + i * 20;
    return [
      `<rect x="${x}" y="${y - 6}" width="14" height="12" fill="${entry.color}"/>`,
      `<text x="${x + 20}" y="${y}" dominant-baseline="middle">${escapeXml(entry.label)}</text>`,
    ];
  });
}

function polyline(points: CurvePoint[], color: string, x: Axis, y: Axis, step: boolean): string {
  const coordinates: string[] = [];
  points.forEach((p, i) => {
    // A PR curve is step-wise: precision stays level until the next recall step.
    if (step && i > 0) coordinates.push(`${fmt(sx(p.x, x))},${fmt(sy(points[i - 1].y, y))}`);
    coordinates.push(`${fmt(sx(p.x, x))},${fmt(sy(p.y, y))}`);
  });
  return `<polyline fill="none" stroke="${color}" stroke-width="2" points="${coordinates.join(' ')}"/>`;
}

function percent(value: number | null): string {
  return value === null ? 'undefined' : `${(value * 100).toFixed(1)} %`;
}

/** Precision–recall curves of all methods: x = recall, y = precision. */
export function renderPrCurves(methods: MethodEvaluation[], title = 'Precision–recall (anomaly positive)'): string {
  const x = unitAxis('Recall (true positive rate)');
  const y = unitAxis('Precision');
  const parts = frame(title, x, y);
  methods.forEach((m, i) => {
    if (m.curves.pr.length > 0) parts.push(polyline(m.curves.pr, PALETTE[i % PALETTE.length], x, y, true));
  });
  parts.push(...legend(methods.map((m, i) => ({ label: `${shortName(m.metrics.method)} (AUPR ${percent(m.metrics.pooled.aupr.value)})`, color: PALETTE[i % PALETTE.length] }))));
  parts.push('</svg>');
  return parts.join('\n');
}

/** ROC curves of all methods: x = false positive rate, y = true positive rate, with the chance diagonal. */
export function renderRocCurves(methods: MethodEvaluation[], title = 'ROC (anomaly positive)'): string {
  const x = unitAxis('False positive rate');
  const y = unitAxis('True positive rate');
  const parts = frame(title, x, y);
  parts.push(`<line x1="${sx(0, x)}" y1="${sy(0, y)}" x2="${sx(1, x)}" y2="${sy(1, y)}" stroke="#999999" stroke-dasharray="4 4"/>`);
  methods.forEach((m, i) => {
    if (m.curves.roc.length > 0) parts.push(polyline(m.curves.roc, PALETTE[i % PALETTE.length], x, y, false));
  });
  parts.push(...legend(methods.map((m, i) => ({ label: `${shortName(m.metrics.method)} (AUROC ${percent(m.metrics.pooled.auroc.value)})`, color: PALETTE[i % PALETTE.length] }))));
  parts.push('</svg>');
  return parts.join('\n');
}

function niceTicks(min: number, max: number, count = 5): number[] {
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * magnitude).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/**
 * Score histogram of one method: the fraction of known and of anomaly pixels per score bin (each class
 * sums to 1, so a small anomaly class stays visible). x = score, higher = more anomalous.
 */
export function renderScoreHistogram(method: string, histogram: ScoreHistogram): string {
  const known = histogram.known.reduce((a, b) => a + b, 0);
  const anomaly = histogram.anomaly.reduce((a, b) => a + b, 0);
  const knownFraction = histogram.known.map((c) => (known > 0 ? c / known : 0));
  const anomalyFraction = histogram.anomaly.map((c) => (anomaly > 0 ? c / anomaly : 0));
  const top = Math.max(...knownFraction, ...anomalyFraction, 1e-9) * 1.05;

  const edges = histogram.edges;
  const x: Axis = { min: edges[0], max: edges[edges.length - 1], label: 'Score (higher = more anomalous)', ticks: niceTicks(edges[0], edges[edges.length - 1]) };
  const y: Axis = { min: 0, max: top, label: 'Fraction of the class\'s pixels per bin', ticks: niceTicks(0, top) };
  const parts = frame(`${method}: score histogram`, x, y);
  const bars = (fractions: number[], color: string): void => {
    fractions.forEach((f, i) => {
      if (f <= 0) return;
      const left = sx(edges[i], x);
      const right = sx(edges[i + 1], x);
      parts.push(`<rect x="${fmt(left)}" y="${fmt(sy(f, y))}" width="${fmt(Math.max(right - left, 0.5))}" height="${fmt(sy(0, y) - sy(f, y))}" fill="${color}" fill-opacity="0.55"/>`);
    });
  };
  bars(knownFraction, PALETTE[0]);
  bars(anomalyFraction, PALETTE[1]);
  parts.push(...legend([
    { label: `known (${known.toLocaleString('en-US')} px)`, color: PALETTE[0] },
    { label: `anomaly (${anomaly.toLocaleString('en-US')} px)`, color: PALETTE[1] },
  ]));
  const clamped = histogram.clampedBelow + histogram.clampedAbove;
  if (clamped > 0) {
    parts.push(`<text x="${MARGIN.left + PLOT_W + 14}" y="${MARGIN.top + 70}" font-size="11">${clamped.toLocaleString('en-US')} px outside the</text>`);
    parts.push(`<text x="${MARGIN.left + PLOT_W + 14}" y="${MARGIN.top + 84}" font-size="11">classes' 0.1–99.9 % quantiles</text>`);
    parts.push(`<text x="${MARGIN.left + PLOT_W + 14}" y="${MARGIN.top + 98}" font-size="11">are counted in the end bins</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}
