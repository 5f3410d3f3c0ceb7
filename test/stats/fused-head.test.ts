import { strict as assert } from 'node:assert';
import * as ort from 'onnxruntime-node';
import { encodeModel } from '../../src/core/heat/graph';
import { buildStatisticsHead, FUSED_ARGMAX, FUSED_LOGITS_INPUT, FUSED_MAX_LOGIT, fusedNames } from '../../src/core/stats/fused';
import { gaussian, maxRelativeError, random } from './reference';

/**
 * The statistics head alone, against straight float64 loops: class means, residual sums, the scatter assembled
 * from its upper blocks, and the logit peaks.
 */
describe('stats fused head', () => {
  for (const [dim, parts] of [[6, 1], [64, 2], [1024, 8]] as const) {
    it(`head outputs match loops (D = ${dim}, ${parts} parts)`, async () => {
      const rand = random(dim);
      const classes = 3;
      const [h, w] = [3, 5];
      const n = h * w;
      const features = Float32Array.from({ length: dim * n }, () => 2 + gaussian(rand));
      const cellClass = Array.from({ length: n }, (_, p) => (p % 4 === 3 ? -1 : p % classes));
      const onehot = new Float32Array(classes * n);
      const counts = new Array<number>(classes).fill(0);
      cellClass.forEach((c, p) => {
        if (c < 0) return;
        onehot[c * n + p] = 1;
        counts[c]++;
      });
      const logits = Float32Array.from({ length: classes * 4 * 6 }, () => gaussian(rand));

      const names = fusedNames(0);
      const session = await ort.InferenceSession.create(encodeModel(buildStatisticsHead([{ dim, parts }], classes)));
      const out = await session.run({
        [names.features]: new ort.Tensor('float32', features, [1, dim, h, w]),
        [names.cellClasses]: new ort.Tensor('float32', onehot, [classes, n]),
        [names.inverseCounts]: new ort.Tensor('float32', Float32Array.from(counts, (k) => 1 / k), [1, classes]),
        [FUSED_LOGITS_INPUT]: new ort.Tensor('float32', logits, [1, classes, 4, 6]),
      });
      await session.release();

      const means = out[names.means].data as Float32Array;
      const expectedMeans = new Array<number>(dim * classes).fill(0);
      cellClass.forEach((c, p) => {
        if (c >= 0) for (let i = 0; i < dim; i++) expectedMeans[i * classes + c] += features[i * n + p] / counts[c];
      });
      assert.ok(maxRelativeError(means, expectedMeans) < 1e-6, 'means');

      // The scatter about the head's own float32 means m, and the residual sums of the cells about m.
      const scatter = out[names.scatter].data as Float32Array;
      const residuals = out[names.residuals].data as Float32Array;
      const expectedScatter = new Array<number>(dim * dim).fill(0);
      const expectedResiduals = new Array<number>(dim * classes).fill(0);
      cellClass.forEach((c, p) => {
        if (c < 0) return;
        const y = Array.from({ length: dim }, (_, i) => features[i * n + p] - means[i * classes + c]);
        y.forEach((v, i) => { expectedResiduals[i * classes + c] += v; });
        for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) expectedScatter[i * dim + j] += y[i] * y[j];
      });
      assert.ok(maxRelativeError(scatter, expectedScatter) < 1e-5, `scatter ${maxRelativeError(scatter, expectedScatter)}`);
      const residualScale = Math.max(...expectedMeans.map(Math.abs));
      const worstResidual = Math.max(...expectedResiduals.map((r, k) => Math.abs(r - residuals[k])));
      assert.ok(worstResidual < 1e-5 * residualScale, `residuals ${worstResidual}`);

      const argmax = out[FUSED_ARGMAX].data as Int32Array;
      const maxLogit = out[FUSED_MAX_LOGIT].data as Float32Array;
      for (let p = 0; p < 24; p++) {
        let best = 0;
        for (let c = 1; c < classes; c++) if (logits[c * 24 + p] > logits[best * 24 + p]) best = c;
        assert.equal(argmax[p], best, `argmax at ${p}`);
        assert.equal(maxLogit[p], logits[best * 24 + p], `max logit at ${p}`);
      }
    });
  }
});
