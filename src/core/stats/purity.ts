/**
 * Reduction of a label image to the feature grid by the purity rule (DESIGN.md item 2).
 *
 * Label pixel (y, x) of an H×W label belongs to feature cell (⌊y·h/H⌋, ⌊x·w/W⌋) of the h×w grid, which
 * also handles ratios that are not whole numbers. A cell takes label value v only when at least `purity`
 * of the pixels it covers carry v; otherwise it is mixed and left out.
 */

/** Marks a mixed cell (no value reaches the purity) or a cell that covers no label pixel. */
export const MIXED = -1;

/**
 * Returns, per cell of the h×w grid (row-major), the label value that covers at least `purity` of the cell's
 * pixels, or MIXED. Label values are any integers; negative values stand for "other" pixels (for example
 * low-confidence pseudo-labels) and count against every class. Between two values that both reach a purity
 * of 0.5 or less, the more frequent wins, then the smaller value.
 */
export function reduceLabels(
  labels: ArrayLike<number>, height: number, width: number, gridHeight: number, gridWidth: number, purity: number,
): Int32Array {
  if (labels.length !== height * width) throw new Error(`Label buffer has ${labels.length} values for ${height}×${width}.`);
  const rowStart = cellStarts(height, gridHeight);
  const colStart = cellStarts(width, gridWidth);
  const result = new Int32Array(gridHeight * gridWidth).fill(MIXED);
  if (labels instanceof Uint8Array) {
    reduceBytes(labels, width, rowStart, colStart, gridHeight, gridWidth, purity, result);
    return result;
  }
  const histogram = new Map<number, number>();

  for (let cy = 0; cy < gridHeight; cy++) {
    for (let cx = 0; cx < gridWidth; cx++) {
      histogram.clear();
      let total = 0;
      for (let y = rowStart[cy]; y < rowStart[cy + 1]; y++) {
        const row = y * width;
        for (let x = colStart[cx]; x < colStart[cx + 1]; x++) {
          const v = labels[row + x];
          histogram.set(v, (histogram.get(v) ?? 0) + 1);
          total++;
        }
      }
      if (total === 0) continue;
      let best = MIXED;
      let bestCount = 0;
      for (const [value, count] of histogram) {
        if (value < 0) continue;
        if (count > bestCount || (count === bestCount && value < best)) { best = value; bestCount = count; }
      }
      // Counts are integers, so compare count ≥ purity·total with a tolerance for purity values like 0.7.
      if (bestCount > 0 && bestCount >= purity * total - 1e-9) result[cy * gridWidth + cx] = best;
    }
  }
  return result;
}

/** Reduces 8-bit labels (the decoded label files) like reduceLabels, counting in a 256-entry table instead of a Map. */
function reduceBytes(
  labels: Uint8Array, width: number, rowStart: Int32Array, colStart: Int32Array, gridHeight: number, gridWidth: number, purity: number, result: Int32Array,
): void {
  // Under purity 1 (the default) a cell counts only when uniform, so one pass that stops at the first differing pixel suffices.
  if (purity >= 1) {
    for (let cy = 0; cy < gridHeight; cy++) {
      for (let cx = 0; cx < gridWidth; cx++) {
        const x0 = colStart[cx];
        const x1 = colStart[cx + 1];
        if (x0 === x1 || rowStart[cy] === rowStart[cy + 1]) continue;
        const first = labels[rowStart[cy] * width + x0];
        let uniform = true;
        for (let y = rowStart[cy]; uniform && y < rowStart[cy + 1]; y++) {
          const row = y * width;
          for (let x = x0; x < x1; x++) {
            if (labels[row + x] !== first) { uniform = false; break; }
          }
        }
        if (uniform) result[cy * gridWidth + cx] = first;
      }
    }
    return;
  }
  const histogram = new Int32Array(256);
  for (let cy = 0; cy < gridHeight; cy++) {
    for (let cx = 0; cx < gridWidth; cx++) {
      let total = 0;
      for (let y = rowStart[cy]; y < rowStart[cy + 1]; y++) {
        const row = y * width;
        for (let x = colStart[cx]; x < colStart[cx + 1]; x++) histogram[labels[row + x]]++;
        total += colStart[cx + 1] - colStart[cx];
      }
      if (total === 0) continue;
      let best = MIXED;
      let bestCount = 0;
      // Ascending values with a strict comparison: on equal counts the smaller value wins, as in the general path.
      for (let y = rowStart[cy]; y < rowStart[cy + 1]; y++) {
        const row = y * width;
        for (let x = colStart[cx]; x < colStart[cx + 1]; x++) {
          const value = labels[row + x];
          const count = histogram[value];
          if (count > bestCount || (count === bestCount && value < best)) { best = value; bestCount = count; }
        }
      }
      if (bestCount >= purity * total - 1e-9) result[cy * gridWidth + cx] = best;
      for (let y = rowStart[cy]; y < rowStart[cy + 1]; y++) {
        const row = y * width;
        for (let x = colStart[cx]; x < colStart[cx + 1]; x++) histogram[labels[row + x]] = 0;
      }
    }
  }
}

/**
 * starts[i] is the first of the `size` pixels mapped to cell i by ⌊p·cells/size⌋; starts[cells] = size.
 * Cells finer than the pixels get an empty range.
 */
function cellStarts(size: number, cells: number): Int32Array {
  const starts = new Int32Array(cells + 1).fill(size);
  for (let p = size - 1; p >= 0; p--) starts[Math.floor((p * cells) / size)] = p;
  for (let i = cells - 1; i >= 0; i--) if (starts[i] > starts[i + 1]) starts[i] = starts[i + 1];
  return starts;
}

/** Counts of cells left out of the statistics by `toClassCells`, by reason. */
export interface CellTally {
  used: number;
  mixed: number;
  ignore: number;
  anomaly: number;
  /** Values that are neither a class id below C nor listed as ignore or anomaly. */
  unknown: number;
  unknownValues: Set<number>;
}

export function emptyTally(): CellTally {
  return { used: 0, mixed: 0, ignore: 0, anomaly: 0, unknown: 0, unknownValues: new Set() };
}

/**
 * Turns reduced label values into class ids for the statistics: ignore and anomaly values (after offset and
 * mapping), mixed cells and values outside 0..C−1 become −1 and never enter the statistics.
 */
export function toClassCells(
  reduced: Int32Array, classCount: number, ignore: readonly number[], anomaly: readonly number[], tally: CellTally = emptyTally(),
): Int32Array {
  const ignoreSet = new Set(ignore);
  const anomalySet = new Set(anomaly);
  const classes = new Int32Array(reduced.length);
  for (let i = 0; i < reduced.length; i++) {
    const v = reduced[i];
    let c = -1;
    if (v === MIXED || v < 0) tally.mixed++;
    else if (anomalySet.has(v)) tally.anomaly++;
    else if (ignoreSet.has(v)) tally.ignore++;
    else if (v >= classCount) { tally.unknown++; tally.unknownValues.add(v); }
    else { c = v; tally.used++; }
    classes[i] = c;
  }
  return classes;
}
