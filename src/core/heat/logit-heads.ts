/**
 * Heads computed from the logits z (float32 [N, C, H, W]) alone. Each returns a [N, H, W] map.
 *
 * NaN: a NaN logit makes the softmax-based scores and the energy of its pixel NaN, because exp(z − max z) is NaN
 * for that class and the class sums propagate it. The max logit is read at the argmax, and onnxruntime's ArgMax
 * skips a NaN after the first class (checked), so `max_logit`, `sml` and `prediction` may stay finite. The host
 * checks the energy map for NaN after each run (pipeline/session.ts).
 */
import { HeadContext } from './context';
import { ElemType } from './graph';

/**
 * Energy E = −T·logsumexp_c(z_c / T). Anomaly score = +E: higher = more anomalous.
 * (Logits [10, 0] give −10.0000454, [1, 1] give −1.6931472, so the uncertain pixel scores higher.)
 * Both paths subtract the maximum logit before exponentiating, so large logits do not overflow
 * (onnxruntime's ReduceLogSumExp does so internally).
 */
export function energyHead(ctx: HeadContext, temperature: number): string {
  return ctx.once(`energy:${temperature}`, () => {
    if (temperature === 1) return ctx.neg(squeeze(ctx, logSumExp(ctx)), 'energy');
    const scaled = ctx.div(ctx.logits, ctx.g.scalar(temperature), 'z_over_t');
    const lse = ctx.reduce('ReduceLogSumExp', scaled, 1, false, 'logsumexp');
    return ctx.mul(lse, ctx.g.scalar(-temperature), 'energy');
  });
}

/** Largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

/** Returns z_c − max z, [N, C, H, W]. */
export function shiftedLogits(ctx: HeadContext): string {
  return ctx.once('z_shifted', () => ctx.sub(ctx.logits, maxLogit(ctx), 'z_shifted'));
}

/** Returns exp(z_c − max z), [N, C, H, W]: the shifted exponentials behind the softmax and the logsumexp. */
function shiftedExp(ctx: HeadContext): string {
  return ctx.once('shifted_exp', () => ctx.g.node('Exp', [shiftedLogits(ctx)], {}, 'shifted_exp'));
}

/** Returns log Σ_c exp(z_c − max z) as [N, 1, H, W]. */
export function logSumShiftedExp(ctx: HeadContext): string {
  return ctx.once('log_sum_shifted_exp', () => ctx.log(sumShiftedExp(ctx), 'log_sum_shifted_exp'));
}

/** Returns Σ_c exp(z_c − max z) as [N, 1, H, W]. It is ≥ 1, so its logarithm and reciprocal are safe. */
function sumShiftedExp(ctx: HeadContext): string {
  return ctx.once('sum_shifted_exp', () => ctx.classSum(shiftedExp(ctx), true, 'sum_shifted_exp'));
}

/** Builds logsumexp_c z_c = max z + log Σ_c exp(z_c − max z) at temperature 1, as [N, 1, H, W]. */
function logSumExp(ctx: HeadContext): string {
  return ctx.once('logsumexp', () => ctx.add(maxLogit(ctx), logSumShiftedExp(ctx), 'logsumexp_keep'));
}

/**
 * Returns max_c z_c, kept as [N, 1, H, W]. It is read at the argmax, which the prediction needs anyway, rather
 * than reduced over the C planes a second time (0.6 against 4.5 ms at 19 × 512 × 1024, measured on 2 cores).
 */
function maxLogit(ctx: HeadContext): string {
  return ctx.once('max_z', () => ctx.g.node('GatherElements', [ctx.logits, argmaxKept(ctx)], { axis: 1 }, 'max_z'));
}

/** Returns argmax_c z_c as int64 [N, 1, H, W] (first maximum on ties). */
function argmaxKept(ctx: HeadContext): string {
  return ctx.once('argmax', () => ctx.g.node('ArgMax', [ctx.logits], { axis: 1, keepdims: 1 }, 'argmax'));
}

/** Max logit baseline. Anomaly score = −max_c z_c: higher = more anomalous. */
export function maxLogitHead(ctx: HeadContext): string {
  return ctx.once('max_logit', () => ctx.neg(squeeze(ctx, maxLogit(ctx)), 'max_logit'));
}

/**
 * Softmax p_c = exp(z_c − max z) / Σ_k exp(z_k − max z) at temperature 1, [N, C, H, W], shared by the
 * probability-based heads. Built from shared parts rather than the Softmax op, which onnxruntime runs on
 * a non-last axis by transposing the whole tensor (about 5× slower at 13 × 512 × 1024 on the CPU).
 */
export function softmax(ctx: HeadContext): string {
  return ctx.once('softmax', () => ctx.div(shiftedExp(ctx), sumShiftedExp(ctx), 'softmax'));
}

/**
 * Maximum softmax probability baseline. Anomaly score = −max_c p_c: higher = more anomalous.
 * max_c p_c = 1 / Σ_c exp(z_c − max z), computed on [N, 1, H, W] maps instead of a pass over C.
 */
export function maxSoftmaxHead(ctx: HeadContext): string {
  return ctx.once('max_softmax', () => {
    const maxP = ctx.g.node('Reciprocal', [sumShiftedExp(ctx)], {}, 'max_p');
    return ctx.neg(squeeze(ctx, maxP), 'max_softmax');
  });
}

/**
 * Builds Σ_c p_c·log p_c as [N, H, W] from the log-softmax log p_c = z_c − logsumexp z, so that no
 * logarithm is taken over the C × H × W values: Σ_c p_c·log p_c = Σ_c p_c·(z_c − max z) − log Σ_c exp(z_c − max z).
 * This is the entropy's negative, exactly, and it needs no ε, since log p is finite for every finite logit.
 * The guide's −Σ_c p_c·log(p_c + 1e-8) differs from it by at most C·1e-8.
 * A logit of −Inf (a class the model rules out) has p = 0 and z − max z = −Inf, whose product is NaN. So the
 * shifted logits are clipped at −FLT_MAX first, which changes no finite value and makes that term 0. The Clip
 * costs about 1 ms at 19 × 512 × 1024 on 2 cores.
 */
function sumPLogP(ctx: HeadContext): string {
  return ctx.once('sum_p_log_p', () => {
    const finite = ctx.g.node('Clip', [shiftedLogits(ctx), ctx.g.scalar(-FLOAT32_MAX)], {}, 'z_shifted_finite');
    const weighted = ctx.classSum(ctx.mul(softmax(ctx), finite, 'p_z_shifted'), false, 'sum_p_z');
    return ctx.sub(weighted, squeeze(ctx, logSumShiftedExp(ctx)), 'sum_p_log_p');
  });
}

/**
 * Softmax entropy H = −Σ_c p_c·log p_c, computed from the log-softmax (see sumPLogP). Anomaly score = +H:
 * higher = more anomalous. The same map feeds the energy reliability weight.
 */
export function entropyHead(ctx: HeadContext): string {
  return ctx.once('entropy', () => ctx.neg(sumPLogP(ctx), 'entropy'));
}

/**
 * Standardized max logit: SML = (max_c z_c − μ_ĉ) / σ_ĉ with ĉ = argmax_c z_c and the per-class mean
 * μ and std σ of the max logit over training pixels of that class. Anomaly score = −SML:
 * higher = more anomalous. `mean` and `std` are [C] and already checked (σ > 0).
 */
export function standardizedMaxLogitHead(ctx: HeadContext, mean: ArrayLike<number>, std: ArrayLike<number>, statsKey: string): string {
  return ctx.once(`sml:${statsKey}`, () => {
    const C = mean.length;
    const argmax = squeeze(ctx, argmaxKept(ctx));
    const classMean = ctx.g.node('Gather', [ctx.g.floats('sml_mean', mean, [C]), argmax], { axis: 0 }, 'sml_class_mean');
    const classStd = ctx.g.node('Gather', [ctx.g.floats('sml_std', std, [C]), argmax], { axis: 0 }, 'sml_class_std');
    const maxZ = squeeze(ctx, maxLogit(ctx));
    return ctx.neg(ctx.div(ctx.sub(maxZ, classMean), classStd), 'sml');
  });
}

/** Predicted class argmax_c z_c as int32 [N, H, W] (first maximum on ties). */
export function predictionHead(ctx: HeadContext): string {
  return ctx.once('prediction', () => {
    return ctx.g.node('Cast', [squeeze(ctx, argmaxKept(ctx))], { to: ElemType.INT32 }, 'prediction');
  });
}

/** [N, 1, H, W] → [N, H, W]. */
export function squeeze(ctx: HeadContext, x: string): string {
  return ctx.g.node('Squeeze', [x, ctx.g.ints([1])], {}, 'squeeze');
}
