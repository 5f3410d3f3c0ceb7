/**
 * Benchmark of the head graph at the synthetic size: D = 1024 features on a 64 × 128 grid,
 * C = 13 classes, logits 512 × 1024 (8× the feature grid). Not a test (no timing is asserted).
 *
 *   npx tsx test/heat/bench-mahalanobis.ts [tied|classwise|lowrank] [runs]
 */
import * as ort from 'onnxruntime-node';
import { buildHeatHead, HeatOutputName } from '../../src/core/heat';
import type { CovarianceMode } from '../../src/core/heat';
import { largeStatistics, normals, rng } from './helpers';

async function main(): Promise<void> {
  const covariance = (process.argv[2] ?? 'tied') as CovarianceMode;
  const runs = Number(process.argv[3] ?? 3);
  const D = 1024, C = 13, h = 64, w = 128, H = 512, W = 1024;

  let t = performance.now();
  const stats = largeStatistics(rng(4), C, D, 256);
  console.log(`large statistics (D = ${D}, C = ${C}): ${(performance.now() - t).toFixed(0)} ms`);

  const feeds = {
    logits: new ort.Tensor('float32', normals(rng(2), C * H * W, 2), [1, C, H, W]),
    features: new ort.Tensor('float32', normals(rng(3), D * h * w, 1, 0.5), [1, D, h, w]),
  };
  const variants: [string, HeatOutputName[]][] = [['mahalanobis only', ['mahalanobis']], ['all maps', [...(['energy', 'spatial', 'heat', 'mahalanobis', 'weight_energy', 'weight_mahalanobis', 'weight_spatial', 'prediction'] as HeatOutputName[])]]];
  for (const [label, outputs] of variants) {
    t = performance.now();
    const head = buildHeatHead({ statistics: stats, covariance, outputs, classCount: C });
    const buildMs = performance.now() - t;
    t = performance.now();
    const session = await ort.InferenceSession.create(head.bytes);
    const sessionMs = performance.now() - t;
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      t = performance.now();
      await session.run(session.inputNames.includes('features') ? feeds : { logits: feeds.logits });
      times.push(performance.now() - t);
    }
    await session.release();
    console.log(`${covariance}, ${label}: build ${buildMs.toFixed(0)} ms, model ${(head.bytes.length / 1e6).toFixed(1)} MB, session ${sessionMs.toFixed(0)} ms, run ${times.map((x) => x.toFixed(0)).join(' / ')} ms`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
