/**
 * Checks that a model's logits and features are finite, with one error wording for every command, so that a
 * NaN is reported where it enters rather than as a failed normalization or Cholesky factorization later.
 */
import { HeatError } from '../errors';

const FIX = 'Check heat.model.scale, heat.model.mean and heat.model.std, and that heat.model.logitsTensor names the raw logits; the model may itself produce NaN.';

/** Returns the error for `bad` of `total` pixels of `file` whose logits in `tensor` contain a NaN or +Inf. */
export function nonFiniteLogitsError(file: string, bad: number, total: number, tensor: string): HeatError {
  return new HeatError(`${file}: ${bad} of ${total} pixels have NaN or infinite logits in "${tensor}".`, FIX, file);
}

/** Returns the error for features of `file` in `tensor` that contain a NaN or an infinity (`detail`: where it was found). */
export function nonFiniteFeaturesError(file: string, tensor: string, detail: string): HeatError {
  return new HeatError(`${file}: the features in "${tensor}" contain NaN or infinite values (${detail}).`,
    'Check heat.model.scale, heat.model.mean and heat.model.std, and heat.model.featureLayer; the model may itself produce NaN.', file);
}

/** Counts the values of `data` that are NaN or ±Inf. */
export function countNonFinite(data: ArrayLike<number>): number {
  let bad = 0;
  // v − v is 0 for every finite v and NaN for NaN and ±Inf.
  for (let i = 0; i < data.length; i++) if (data[i] - data[i] !== 0) bad++;
  return bad;
}

/**
 * Throws when an energy map is not finite. Energy is −T·logsumexp(z/T), which is non-finite exactly where a logit
 * is NaN or +Inf, so one energy map finds such logits without copying the logits tensor back from the session. A −Inf logit (a class with zero
 * probability) leaves the energy finite and is accepted. Map names are head output names, optionally after a
 * "g<k>/" group prefix (sweeps).
 */
export function checkFiniteEnergy(maps: ReadonlyMap<string, Float32Array>, file: string, logitsTensor: string): void {
  for (const [name, data] of maps) {
    if (!/^(g\d+\/)?energy/.test(name)) continue;
    const bad = countNonFinite(data);
    if (bad > 0) throw nonFiniteLogitsError(file, bad, data.length, logitsTensor);
    return;
  }
}
