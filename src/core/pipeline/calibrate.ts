/**
 * Z-score constants for the `standardized` and `equal` combinations: the mean and standard deviation of
 * each HEAT component (energy, Mahalanobis, spatial) over the known pixels of the validation split.
 * Components are computed at logits resolution, and the labels are resized to it by nearest neighbour.
 */
import type { HeatConfig } from '../config';
import { HeatError, throwIfCancelled } from '../errors';
import { labelMappingFromConfig, listSplit, loadLabel } from '../data';
import type { ComponentStandardization, HeatComponent } from '../heat';
import { silentLogger, type Logger } from '../log';
import { resizeNearest } from './resize';
import { HeatSession } from './session';

/** Head output holding each component's anomaly-oriented score. */
const COMPONENT_MAP: Record<HeatComponent, string> = { energy: 'energy', mahalanobis: 'mahalanobis', spatial: 'spatial' };

/** Running mean and variance of known-pixel values, merged image by image in float64. */
class KnownPixelMoments {
  count = 0;
  mean = 0;
  private m2 = 0;

  add(values: Float32Array, labels: Uint8Array): void {
    for (let i = 0; i < values.length; i++) {
      if (labels[i] !== 0) continue;
      this.count++;
      const delta = values[i] - this.mean;
      this.mean += delta / this.count;
      this.m2 += delta * (values[i] - this.mean);
    }
  }

  get std(): number {
    return this.count > 1 ? Math.sqrt(this.m2 / (this.count - 1)) : 0;
  }
}

export async function standardizationFromValidation(
  config: HeatConfig, options: { log?: Logger; signal?: AbortSignal } = {},
): Promise<Partial<Record<HeatComponent, ComponentStandardization>>> {
  const log = options.log ?? silentLogger;
  const samples = await listSplit(config, 'val', { requireLabels: true });
  if (samples.length === 0) {
    throw new HeatError('heat.score.combination "standardized" and "equal" z-score each component on the known pixels of the validation split, but no validation split is configured.',
      'Set heat.data.val.images (and heat.data.val.labels), or use heat.score.combination "reliability".', 'heat.score.combination');
  }

  const session = await HeatSession.open(config, { log, variants: [{ suffix: '', combination: 'reliability' }] });
  try {
    const mapping = labelMappingFromConfig(config, session.classCount);
    const moments = new Map<HeatComponent, KnownPixelMoments>();
    for (const sample of samples) {
      throwIfCancelled(options.signal, 'Calibration');
      const run = await session.runImage(sample.image);
      const label = await loadLabel(sample.label as string, mapping, { width: run.image.width, height: run.image.height, image: sample.image });
      const known = resizeNearest(label.anomaly, label.height, label.width, run.height, run.width);
      for (const component of Object.keys(COMPONENT_MAP) as HeatComponent[]) {
        const map = run.maps.get(COMPONENT_MAP[component]);
        if (!map) continue;
        if (!moments.has(component)) moments.set(component, new KnownPixelMoments());
        moments.get(component)?.add(map, known);
      }
    }

    const constants: Partial<Record<HeatComponent, ComponentStandardization>> = {};
    for (const [component, m] of moments) {
      if (m.count < 2 || !(m.std > 0)) {
        throw new HeatError(`The ${component} score has no spread over the known pixels of the validation split (${m.count} pixels, std ${m.std}), so it cannot be z-scored.`,
          'Check the validation labels, or use heat.score.combination "reliability".', 'heat.score.combination');
      }
      constants[component] = { mean: m.mean, std: m.std };
    }
    log.info(`Z-score constants from ${samples.length} validation images: ${Object.entries(constants).map(([c, z]) => `${c} ${z.mean.toPrecision(4)} ± ${z.std.toPrecision(4)}`).join(', ')}.`);
    return constants;
  } finally {
    await session.release();
  }
}
