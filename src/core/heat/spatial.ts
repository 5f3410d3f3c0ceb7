/**
 * Spatial consistency of the softmax p with its k × k neighbourhood, and the spatial reliability
 * weight's local deviation. Neighbourhood means use `avgPool` (see HeadContext): with padding
 * 'exclude' only cells inside the image are averaged; 'zero' counts padded zeros and reproduces the
 * guide's code, which biases borders (a uniform map gets KL ln(9/4) ≈ 0.811 at corners for k = 3).
 */
import { HeadContext } from './context';
import { softmax } from './logit-heads';

export type SpatialMethod = 'kl' | 'variance';
export type Padding = 'exclude' | 'zero';

/** Epsilon of the KL divergence: KL = Σ_c p·log((p + 1e-8) / (q + 1e-8)). */
export const KL_EPSILON = 1e-8;

/**
 * Spatial anomaly score −S, higher = more anomalous (less consistent with the neighbourhood).
 *  - 'kl': consistency S = −Σ_c p_c·log((p_c + ε)/(q_c + ε)) with q = avgpool_k(p), so −S = KL(p ‖ q) ≥ 0
 *    (up to the ε terms).
 *  - 'variance': consistency S = −Σ_c (E_k[p_c²] − E_k[p_c]²), the summed neighbourhood variance, so
 *    −S = Σ_c Var_k(p_c) ≥ 0 (up to rounding).
 * Returns the [N, H, W] map −S.
 */
export function spatialHead(ctx: HeadContext, kernelSize: number, method: SpatialMethod, padding: Padding): string {
  return ctx.once(`spatial:${method}:${kernelSize}:${padding}`, () => {
    const p = softmax(ctx);
    if (method === 'kl') {
      const q = ctx.avgPool(p, kernelSize, padding, 'neighbour_p');
      const logRatio = ctx.sub(ctx.log(ctx.addConst(p, KL_EPSILON)), ctx.log(ctx.addConst(q, KL_EPSILON)), 'log_ratio');
      return ctx.sumOver(ctx.mul(p, logRatio), 1, false, 'spatial_kl');
    }
    const meanOfSquare = ctx.avgPool(ctx.mul(p, p, 'p_squared'), kernelSize, padding, 'neighbour_p2');
    const mean = ctx.avgPool(p, kernelSize, padding, 'neighbour_p');
    const variance = ctx.sub(meanOfSquare, ctx.mul(mean, mean), 'neighbour_var');
    return ctx.sumOver(variance, 1, false, 'spatial_variance');
  });
}

/**
 * Local deviation used by the spatial reliability weight, following the guide:
 * v = Σ_c avgpool_3((p_c − mean_c p)²), with the configured padding. [N, H, W].
 */
export function localDeviation(ctx: HeadContext, padding: Padding): string {
  return ctx.once(`local_deviation:${padding}`, () => {
    const p = softmax(ctx);
    const centred = ctx.sub(p, ctx.reduce('ReduceMean', p, 1, true, 'class_mean_p'), 'p_centred');
    const pooled = ctx.avgPool(ctx.mul(centred, centred), 3, padding, 'pooled_dev2');
    return ctx.sumOver(pooled, 1, false, 'local_deviation');
  });
}
