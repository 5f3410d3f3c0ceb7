import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { makeConfig } from '../../src/core/config';
import { imageSize } from '../../src/core/data/images';
import { labelMappingFromConfig, loadLabel } from '../../src/core/data/labels';
import { listSplit } from '../../src/core/data/splits';
import { REAL_DIR, tempDir, writeGreyPng, writeImage } from './helpers';

/** Creates empty stand-in files; pairing only looks at names. */
async function touch(root: string, files: string[]): Promise<void> {
  for (const file of files) {
    await fs.mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await fs.writeFile(path.join(root, file), '');
  }
}

function relativePairs(root: string, samples: { image: string; label?: string }[]): [string, string | undefined][] {
  return samples.map((s) => [path.relative(root, s.image), s.label && path.relative(root, s.label)]);
}

describe('splits', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir: root, cleanup } = await tempDir('heat-splits-')));
  afterEach(async () => cleanup());

  describe('presets pair images with labels', () => {
    it('streethazards: images/… ↔ annotations/…', async () => {
      await touch(root, ['sh/test/images/test/t5/300.png', 'sh/test/images/test/t5/299.png',
        'sh/test/annotations/test/t5/300.png', 'sh/test/annotations/test/t5/299.png']);
      const expected = [
        ['sh/test/images/test/t5/299.png', 'sh/test/annotations/test/t5/299.png'],
        ['sh/test/images/test/t5/300.png', 'sh/test/annotations/test/t5/300.png'],
      ];
      for (const folder of ['sh/test', 'sh/test/images/test/t5']) {
        const config = makeConfig({ 'heat.data.preset': 'streethazards', 'heat.data.test.images': folder }, root);
        assert.deepEqual(relativePairs(root, await listSplit(config, 'test')), expected, folder);
      }
    });

    it('cityscapes: leftImg8bit ↔ gtFine labelTrainIds', async () => {
      await touch(root, ['cs/leftImg8bit/val/lindau/lindau_000000_000019_leftImg8bit.png',
        'cs/gtFine/val/lindau/lindau_000000_000019_gtFine_labelTrainIds.png',
        'cs/gtFine/val/lindau/lindau_000000_000019_gtFine_color.png']);
      const config = makeConfig({ 'heat.data.preset': 'cityscapes', 'heat.data.val.images': 'cs' }, root);
      assert.deepEqual(relativePairs(root, await listSplit(config, 'val')), [
        ['cs/leftImg8bit/val/lindau/lindau_000000_000019_leftImg8bit.png', 'cs/gtFine/val/lindau/lindau_000000_000019_gtFine_labelTrainIds.png'],
      ]);
    });

    it('roadanomaly: frames/X.jpg ↔ frames/X.labels/labels_semantic.png', async () => {
      await touch(root, ['ra/frames/b.jpg', 'ra/frames/b.labels/labels_semantic.png', 'ra/frames/b.labels/labels_instance.png',
        'ra/frames/a.jpg', 'ra/frames/a.labels/labels_semantic.png']);
      const config = makeConfig({ 'heat.data.preset': 'roadanomaly', 'heat.data.test.images': 'ra/frames' }, root);
      assert.deepEqual(relativePairs(root, await listSplit(config, 'test')), [
        ['ra/frames/a.jpg', 'ra/frames/a.labels/labels_semantic.png'],
        ['ra/frames/b.jpg', 'ra/frames/b.labels/labels_semantic.png'],
      ]);
    });

    it('fishyscapes: original/X ↔ labels/X.png', async () => {
      await touch(root, ['fs/original/0.png', 'fs/labels/0.png', 'fs/original/1.png', 'fs/labels/1.png']);
      const expected = [['fs/original/0.png', 'fs/labels/0.png'], ['fs/original/1.png', 'fs/labels/1.png']];
      for (const folder of ['fs', 'fs/original']) {
        const config = makeConfig({ 'heat.data.preset': 'fishyscapes', 'heat.data.test.images': folder }, root);
        assert.deepEqual(relativePairs(root, await listSplit(config, 'test')), expected, folder);
      }
    });

    it('camvid: train/X.png ↔ trainannot/X.png', async () => {
      await touch(root, ['cv/train/0001TP_1.png', 'cv/trainannot/0001TP_1.png', 'cv/test/0001TP_9.png', 'cv/testannot/0001TP_9.png']);
      const config = makeConfig({ 'heat.data.preset': 'camvid', 'heat.data.train.images': 'cv/train' }, root);
      assert.deepEqual(relativePairs(root, await listSplit(config, 'train')), [['cv/train/0001TP_1.png', 'cv/trainannot/0001TP_1.png']]);
    });

    it('generic: no pattern gives unlabelled samples; requireLabels is an error', async () => {
      await touch(root, ['g/x.png', 'g/y.jpg', 'g/notes.txt']);
      const config = makeConfig({ 'heat.data.test.images': 'g' }, root);
      assert.deepEqual(relativePairs(root, await listSplit(config, 'test')), [['g/x.png', undefined], ['g/y.jpg', undefined]]);
      await assert.rejects(listSplit(config, 'test', { requireLabels: true }), /heat\.data\.test\.labels is empty and preset generic has no pairing/);
    });
  });

  describe('patterns', () => {
    it('{dir}/../labels/{stem}.png is relative to the image folder', async () => {
      await touch(root, ['d/images/a.jpg', 'd/labels/a.png']);
      const config = makeConfig({ 'heat.data.test.images': 'd/images/*.jpg', 'heat.data.test.labels': '{dir}/../labels/{stem}.png' }, root);
      assert.deepEqual(relativePairs(root, await listSplit(config, 'test')), [['d/images/a.jpg', 'd/labels/a.png']]);
    });

    it('a relative pattern without {dir} is relative to the config folder', async () => {
      await touch(root, ['d/images/a.jpg', 'masks/a_mask.png']);
      const config = makeConfig({ 'heat.data.test.images': 'd/images/*.jpg', 'heat.data.test.labels': 'masks/{stem}_mask.png' }, root);
      assert.deepEqual(relativePairs(root, await listSplit(config, 'test')), [['d/images/a.jpg', 'masks/a_mask.png']]);
    });

    it('an explicit pattern wins over the preset pairing', async () => {
      await touch(root, ['ra/frames/a.jpg', 'ra/masks/a.png']);
      const config = makeConfig({ 'heat.data.preset': 'roadanomaly', 'heat.data.test.images': 'ra/frames/*.jpg', 'heat.data.test.labels': '{dir}/../masks/{stem}.png' }, root);
      assert.deepEqual(relativePairs(root, await listSplit(config, 'test')), [['ra/frames/a.jpg', 'ra/masks/a.png']]);
    });

    it('order is by code unit, whatever the file system returns', async () => {
      await touch(root, ['o/b.png', 'o/B.png', 'o/a10.png', 'o/a2.png', 'o/sub/c.png']);
      const config = makeConfig({ 'heat.data.test.images': 'o/**/*.png' }, root);
      assert.deepEqual(relativePairs(root, await listSplit(config, 'test')).map(([image]) => image),
        ['o/B.png', 'o/a10.png', 'o/a2.png', 'o/b.png', 'o/sub/c.png']);
    });

    it('glob characters in the config folder path are taken literally', async () => {
      await touch(root, ['run[1] (copy)/img/a.png', 'run[1] (copy)/img/b.png']);
      const config = makeConfig({ 'heat.data.test.images': 'img/*.png' }, path.join(root, 'run[1] (copy)'));
      assert.equal((await listSplit(config, 'test')).length, 2);
    });

    it('a single file is a one-image split; an unset split is empty', async () => {
      await touch(root, ['one.png']);
      const config = makeConfig({ 'heat.data.val.images': 'one.png' }, root);
      assert.equal((await listSplit(config, 'val')).length, 1);
      assert.deepEqual(await listSplit(config, 'test'), []);
    });
  });

  describe('bad input', () => {
    it('missing label names the image, the expected path and the pattern', async () => {
      await touch(root, ['m/images/a.png', 'm/images/b.png', 'm/labels/a.png']);
      const config = makeConfig({ 'heat.data.test.images': 'm/images/*.png', 'heat.data.test.labels': '{dir}/../labels/{stem}.png' }, root);
      await assert.rejects(listSplit(config, 'test'), (error: Error) => {
        assert.match(error.message, /1 of 2 images in the test split have no label file/);
        assert.match(error.message, /image .*m\/images\/b\.png/);
        assert.match(error.message, /expected label .*m\/labels\/b\.png/);
        assert.match(error.message, /heat\.data\.test\.labels = "\{dir\}\/\.\.\/labels\/\{stem\}\.png"/);
        return true;
      });
    });

    it('missing label with a preset names the preset pairing', async () => {
      await touch(root, ['cv/train/a.png']);
      const config = makeConfig({ 'heat.data.preset': 'camvid', 'heat.data.train.images': 'cv/train' }, root);
      await assert.rejects(listSplit(config, 'train'), /expected label .*cv\/trainannot\/a\.png from preset camvid \(\{dir\}annot\/\{stem\}\.png\)/);
    });

    it('glob matching nothing and missing folder are errors naming the setting', async () => {
      const config = makeConfig({ 'heat.data.test.images': 'none/*.png', 'heat.data.val.images': 'absent' }, root);
      await assert.rejects(listSplit(config, 'test'), /heat\.data\.test\.images = .*none\/\*\.png matches no image files/);
      await assert.rejects(listSplit(config, 'val'), /heat\.data\.val\.images = .*absent does not exist/);
    });

    it('unknown placeholder is an error', async () => {
      await touch(root, ['u/a.png']);
      const config = makeConfig({ 'heat.data.test.images': 'u/*.png', 'heat.data.test.labels': '{folder}/{stem}.png' }, root);
      await assert.rejects(listSplit(config, 'test'), /Unknown placeholder \{folder\} in heat\.data\.test\.labels/);
    });
  });

  it('listed sample loads with its image size check', async () => {
    await writeImage(path.join(root, 'e/images/a.png'), 3, 2);
    await writeGreyPng(path.join(root, 'e/labels/a.png'), 3, 2, [0, 0, 1, 1, 2, 255]);
    const config = makeConfig({ 'heat.data.test.images': 'e/images/*.png', 'heat.data.test.labels': '{dir}/../labels/{stem}.png',
      'heat.labels.anomaly': [2] }, root);
    const [sample] = await listSplit(config, 'test', { requireLabels: true });
    const size = await imageSize(sample.image);
    const label = await loadLabel(sample.label!, labelMappingFromConfig(config, 2), { ...size, image: sample.image });
    assert.deepEqual(Array.from(label.anomaly), [0, 0, 0, 0, 1, 255]);
  });
});

describe('splits on real data', () => {
  before(function () {
    return fs.access(REAL_DIR).catch(() => {
      console.log(`    skipped: ${REAL_DIR} is absent`);
      this.skip();
    });
  });

  it('roadanomaly preset pairs 40 frames, labels 0/2 load', async () => {
    const config = makeConfig({ 'heat.data.preset': 'roadanomaly', 'heat.data.test.images': path.join(REAL_DIR, 'roadanomaly/frames') }, '/');
    const samples = await listSplit(config, 'test', { requireLabels: true });
    assert.equal(samples.length, 40);
    const first = samples[0];
    const label = await loadLabel(first.label!, labelMappingFromConfig(config), { ...(await imageSize(first.image)), image: first.image });
    assert.equal(label.width, 1280);
    assert.ok(label.counts.anomaly > 0);
    assert.ok(label.counts.known > 0);
    assert.equal(label.counts.ignored, 0);
  });

  it('camvid preset pairs the 60 train images, classes 0..10 plus void 11', async () => {
    const config = makeConfig({ 'heat.data.preset': 'camvid', 'heat.data.train.images': path.join(REAL_DIR, 'camvid/train') }, '/');
    const samples = await listSplit(config, 'train', { requireLabels: true });
    assert.equal(samples.length, 60);
    for (const sample of samples.slice(0, 3)) {
      assert.equal(path.basename(sample.label!), path.basename(sample.image));
      assert.equal(path.basename(path.dirname(sample.label!)), 'trainannot');
      const label = await loadLabel(sample.label!, labelMappingFromConfig(config), { width: 480, height: 360, image: sample.image });
      assert.equal(label.counts.anomaly, 0);
      assert.ok(Math.max(...label.counts.byClass.keys()) <= 10);
    }
  });
});
