/**
 * Spatial consistency of the softmax p with its k × k neighbourhood, and the spatial reliability
 * weight's local deviation. Neighbourhood means use `avgPool` (see HeadContext): with padding
 * 'exclude' only cells inside the image are averaged. 'zero' counts padded zeros (torch avg_pool2d's
 * default), which biases borders: a uniform map gets KL ln(9/4) ≈ 0.811 at corners for k = 3.
 */
import { HeadContext } from './context';
import { softmax, squeeze } from './logit-heads';

export type SpatialMethod = 'kl' | 'variance';
export type Padding = 'exclude' | 'zero';

/** Epsilon of the KL divergence's neighbourhood term, KL = Σ_c p·log(p / (q + ε)), the guide's 1e-8. */
export const KL_EPSILON = 1e-8;

/**
 * Spatial anomaly score −S, higher = more anomalous (less consistent with the neighbourhood).
 *  - 'kl': consistency S = −Σ_c p_c·log((p_c + ε)/(q_c + ε)) with q = avgpool_k(p), so −S = KL(p ‖ q) ≥ 0
 *    (up to the ε terms). The logarithm is taken of the ratio, once over the C × H × W values. Where a pixel's
 *    neighbourhood has the same softmax as the pixel, p + ε and q + ε are equal and its KL is exactly 0.
 *    Taking log p from the log-softmax instead (at the same cost) left float32 noise of about ±1e-7 there. On a
 *    RoadAnomaly frame two thirds of DeepLabV3's pixels had a KL below 1e-6, and ranking that noise moved the
 *    spatial score's FPR95 on RoadAnomaly from 51 to 67 %. The ratio is formed per class before the sum, which keeps small
 *    KL values accurate (two separate sums of size ≈ H cancel in float32).
 *  - 'variance': consistency S = −Σ_c (E_k[p_c²] − E_k[p_c]²), the summed neighbourhood variance, so
 *    −S = Σ_c Var_k(p_c) ≥ 0 (up to rounding).
 * Returns the [N, H, W] map −S.
 */
export function spatialHead(ctx: HeadContext, kernelSize: number, method: SpatialMethod, padding: Padding): string {
  return ctx.once(`spatial:${method}:${kernelSize}:${padding}`, () => {
    const p = softmax(ctx);
    const q = pooledSoftmax(ctx, kernelSize, padding);
    if (method === 'kl') {
      const ratio = ctx.div(ctx.addConst(p, KL_EPSILON, 'p_eps'), ctx.addConst(q, KL_EPSILON, 'q_eps'), 'kl_ratio');
      return ctx.classSum(ctx.mul(p, ctx.log(ratio, 'log_ratio')), false, 'spatial_kl');
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
 * before the pooling (equal by linearity), so one channel is pooled instead of C. With a known class count the
 * class mean of a softmax is the constant 1/C (Σ_c p_c = 1), which saves a pass over the classes. The float32
 * rounding of Σ_c p_c changes v by about C·(1e-7/C)² (an estimate), far below the 1e-6 added to v in the weight.
 */
export function localDeviation(ctx: HeadContext, padding: Padding): string {
  return ctx.once(`local_deviation:${padding}`, () => {
    const p = softmax(ctx);
    const classMean = ctx.classCount === undefined ? ctx.reduce('ReduceMean', p, 1, true, 'class_mean_p') : ctx.g.scalar(1 / ctx.classCount);
    const centred = ctx.sub(p, classMean, 'p_centred');
    const summed = ctx.classSum(ctx.mul(centred, centred), true, 'deviation2');
    return squeeze(ctx, ctx.avgPool(summed, 3, padding, 'local_deviation'));
  });
}
