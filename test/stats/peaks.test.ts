import { strict as assert } from 'node:assert';
import { logitPeaks } from '../../src/core/stats/compute';
import { random } from './reference';

describe('stats logit peaks', () => {
  const classes = 5;
  const height = 3;
  const width = 4;
  const rand = random(12);
  const z = Array.from({ length: height * width }, () => Array.from({ length: classes }, () => Math.fround(rand() * 10 - 5)));

  for (const layout of ['NCHW', 'NHWC'] as const) {
    it(`argmax, max logit and max softmax per pixel (${layout})`, () => {
      const data = new Float32Array(classes * height * width);
      z.forEach((row, p) => row.forEach((v, c) => { data[layout === 'NCHW' ? c * height * width + p : p * classes + c] = v; }));
      const peaks = logitPeaks({ data, classes, height, width, layout });
      z.forEach((row, p) => {
        const top = Math.max(...row);
        assert.equal(peaks.argmax[p], row.indexOf(top));
        assert.equal(peaks.maxLogit[p], top);
        const softmax = Math.exp(top) / row.reduce((a, v) => a + Math.exp(v), 0);
        assert.ok(Math.abs(peaks.maxSoftmax![p] - softmax) < 1e-6);
      });
      assert.equal(logitPeaks({ data, classes, height, width, layout }, false).maxSoftmax, undefined);
    });
  }
});
