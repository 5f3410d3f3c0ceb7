/**
 * Spatial consistency of the softmax p with its k × k neighbourhood, and the spatial reliability
 * weight's local deviation. Neighbourhood means use `avgPool` (see HeadContext): with padding
 * 'exclude' only cells inside the image are averaged. 'zero' counts padded zeros (torch avg_pool2d's
 * default), which biases borders: a uniform map gets KL ln(9/4) ≈ 0.811 at corners for k = 3.
 */
import { HeadContext } from './context';
import { ENTROPY_EPSILON, logProbability, softmax, squeeze } from './logit-heads';

export type SpatialMethod = 'kl' | 'variance';
export type Padding = 'exclude' | 'zero';

/** Epsilon of the KL divergence, KL = Σ_c p·log((p + ε) / (q + ε)). It is the entropy's ε, so log(p + ε) is shared. */
export const KL_EPSILON = ENTROPY_EPSILON;

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
    const q = pooledSoftmax(ctx, kernelSize, padding);
    if (method === 'kl') {
      const logRatio = ctx.sub(logProbability(ctx), ctx.log(ctx.addConst(q, KL_EPSILON)), 'log_ratio');
      return ctx.classSum(ctx.mul(p, logRatio), false, 'spatial_kl');
    }
    // Σ_c E_k[p_c²] = E_k[Σ_c p_c²] because the neighbourhood mean is linear and has the same divisor for
    // every class, so only one channel is pooled for the first term.
    const sumOfSquares = ctx.classSum(ctx.mul(p, p, 'p_squared'), true, 'sum_p_squared');
    const meanOfSquares = squeeze(ctx, ctx.avgPool(sumOfSquares, kernelSize, padding, 'neighbour_p2'));
    const squaredMeans = ctx.classSum(ctx.mul(q, q), false, 'sum_q_squared');
    return ctx.sub(meanOfSquares, squaredMeans, 'spatial_variance');
  });
}

/** q = avgpool_k(p), [N, C, H, W], shared by the KL and variance variants with the same k and padding. */
function pooledSoftmax(ctx: HeadContext, kernelSize: number, padding: Padding): string {
  return ctx.once(`pooled_p:${kernelSize}:${padding}`, () => ctx.avgPool(softmax(ctx), kernelSize, padding, 'neighbour_p'));
}

/**
 * Local deviation used by the spatial reliability weight of the HEAT method:
 * v = Σ_c avgpool_3((p_c − mean_c p)²), with the configured padding, [N, H, W]. The class sum is taken
 * before the pooling (equal by linearity), so one channel is pooled instead of C.
 */
export function localDeviation(ctx: HeadContext, padding: Padding): string {
  return ctx.once(`local_deviation:${padding}`, () => {
    const p = softmax(ctx);
    const classMean = ctx.classCount === undefined
      ? ctx.reduce('ReduceMean', p, 1, true, 'class_mean_p')
      : ctx.classSum(p, true, 'class_mean_p', 1 / ctx.classCount);
    const centred = ctx.sub(p, classMean, 'p_centred');
    const summed = ctx.classSum(ctx.mul(centred, centred), true, 'deviation2');
    return squeeze(ctx, ctx.avgPool(summed, 3, padding, 'local_deviation'));
  });
}
