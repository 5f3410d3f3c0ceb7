import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { makeConfig } from '../../src/core/config';
import { checkKnownClasses, LabelAudit, labelMappingFromConfig, loadLabel, type LabelMapping } from '../../src/core/data/labels';
import { HeatError } from '../../src/core/errors';
import { tempDir, writeGrey16Png, writeGreyPng } from './helpers';

const FIXTURES = path.join(__dirname, 'fixtures');

function mapping(overrides: Partial<LabelMapping> = {}): LabelMapping {
  return { offset: 0, map: new Map(), anomaly: [], ignore: [255], source: 'test', ...overrides };
}

describe('labels', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir, cleanup } = await tempDir()));
  after(async () => cleanup());

  describe('case 2: StreetHazards offset', () => {
    // On disk: [[13, 14], [14, 13]]. 13 is "traffic sign" (12 after −1), 14 the anomaly (13 after −1).
    const disk = [13, 14, 14, 13];

    it('streethazards preset: only on-disk 14 is anomaly, 13 is known class 12', async () => {
      const file = path.join(dir, 'case2.png');
      await writeGreyPng(file, 2, 2, disk);
      const config = makeConfig({ 'heat.data.preset': 'streethazards' }, dir);
      const m = labelMappingFromConfig(config);
      assert.equal(m.offset, -1);
      assert.deepEqual(m.anomaly, [13]);
      const label = await loadLabel(file, m);
      assert.deepEqual(Array.from(label.anomaly), [0, 1, 1, 0]);
      assert.deepEqual(Array.from(label.values), [12, 13, 13, 12]);
      assert.equal(label.counts.anomaly, 2);
      assert.equal(label.counts.known, 2);
    });

    it('without the offset the traffic signs are wrongly flagged', async () => {
      const file = path.join(dir, 'case2.png');
      const label = await loadLabel(file, mapping({ anomaly: [13, 14] }));
      assert.deepEqual(Array.from(label.anomaly), [1, 1, 1, 1]);
    });

    it('the same convention as a custom mapping in generic settings', async () => {
      const file = path.join(dir, 'case2.png');
      const config = makeConfig({ 'heat.labels.offset': -1, 'heat.labels.anomaly': [13] }, dir);
      const label = await loadLabel(file, labelMappingFromConfig(config));
      assert.deepEqual(Array.from(label.anomaly), [0, 1, 1, 0]);
    });

    it('unlabelled class (on disk 1) counts as known class 0', async () => {
      const file = path.join(dir, 'unlabelled.png');
      await writeGreyPng(file, 2, 1, [1, 14]);
      const config = makeConfig({ 'heat.data.preset': 'streethazards' }, dir);
      const label = await loadLabel(file, labelMappingFromConfig(config));
      assert.deepEqual(Array.from(label.values), [0, 13]);
      assert.deepEqual(Array.from(label.anomaly), [0, 1]);
    });
  });

  describe('mapping', () => {
    it('map applies after the offset, then ignore and anomaly', async () => {
      const file = path.join(dir, 'map.png');
      await writeGreyPng(file, 5, 1, [1, 2, 3, 4, 10]);
      // offset −1 → [0, 1, 2, 3, 9]; map {3: 255, 9: 2} → [0, 1, 2, 255, 2]; anomaly 2; ignore 255.
      const m = mapping({ offset: -1, map: new Map([[3, 255], [9, 2]]), anomaly: [2], classCount: 2 });
      const label = await loadLabel(file, m);
      assert.deepEqual(Array.from(label.values), [0, 1, 2, 255, 2]);
      assert.deepEqual(Array.from(label.anomaly), [0, 0, 1, 255, 1]);
      assert.deepEqual([label.counts.known, label.counts.anomaly, label.counts.ignored], [2, 2, 1]);
      assert.deepEqual([...label.counts.ignoredByDiskValue], [[4, 1]]);
      assert.deepEqual([...label.counts.byClass].sort(), [[0, 1], [1, 1], [2, 2]]);
    });

    it('0/255 anomaly mask with anomaly [255]', async () => {
      const file = path.join(dir, 'mask.png');
      await writeGreyPng(file, 3, 1, [0, 255, 0]);
      const label = await loadLabel(file, mapping({ anomaly: [255], ignore: [], classCount: 1 }));
      assert.deepEqual(Array.from(label.anomaly), [0, 1, 0]);
      assert.deepEqual(Array.from(label.values), [0, 255, 0]);
      assert.equal(label.counts.anomaly, 1);
    });

    it('checkKnownClasses on value counts', () => {
      const m = mapping({ offset: -1, anomaly: [13], ignore: [], classCount: 13 });
      assert.doesNotThrow(() => checkKnownClasses(new Map([[1, 5], [14, 2]]), m, 'counts'));
      assert.throws(() => checkKnownClasses(new Map([[1, 5], [15, 2], [0, 0]]), m, 'counts'),
        /counts has values outside the known classes 0\.\.12 .*: 15 \(14 after offset\/map\): 2 pixels\./);
    });

    it('16-bit label values map to class ids', async () => {
      const file = path.join(dir, 'sixteen.png');
      await writeGrey16Png(file, 4, 1, [1000, 2000, 65535, 1000]);
      const m = mapping({ map: new Map([[1000, 0], [2000, 1]]), ignore: [65535], classCount: 2 });
      const label = await loadLabel(file, m);
      assert.deepEqual(Array.from(label.values), [0, 1, 255, 0]);
      assert.deepEqual(Array.from(label.anomaly), [0, 0, 255, 0]);
    });

    it('palette PNG labels use the indices', async () => {
      const expected = require('./fixtures/label-fixtures.json')['palette4.png'] as { values: number[] };
      const label = await loadLabel(path.join(FIXTURES, 'palette4.png'), mapping({ classCount: 16 }));
      assert.deepEqual(Array.from(label.values), expected.values);
    });

    it('RGB file whose channels agree is read as grey', async () => {
      const expected = require('./fixtures/label-fixtures.json')['rgb-grey.png'] as { values: number[] };
      const label = await loadLabel(path.join(FIXTURES, 'rgb-grey.png'), mapping({ ignore: [] }));
      assert.deepEqual(Array.from(label.values), expected.values);
    });

    it('preset defaults yield to non-default settings', () => {
      const config = makeConfig({ 'heat.data.preset': 'roadanomaly', 'heat.labels.ignore': [1] }, dir);
      const m = labelMappingFromConfig(config);
      assert.deepEqual(m.anomaly, [2], 'anomaly from the preset');
      assert.deepEqual(m.ignore, [1], 'ignore from settings');
      assert.match(m.source, /preset roadanomaly with heat\.labels\.ignore from settings/);
    });

    it('class count: model beats classNames beats preset', () => {
      const camvid = makeConfig({ 'heat.data.preset': 'camvid' }, dir);
      assert.equal(labelMappingFromConfig(camvid).classCount, 11);
      const named = makeConfig({ 'heat.data.preset': 'camvid', 'heat.model.classNames': ['a', 'b', 'c'] }, dir);
      assert.equal(labelMappingFromConfig(named).classCount, 3);
      assert.equal(labelMappingFromConfig(named, 21).classCount, 21);
    });

    it('bad heat.labels.map entry names the key', () => {
      const config = makeConfig({ 'heat.labels.map': { road: 1 } }, dir);
      assert.throws(() => labelMappingFromConfig(config), /Invalid entry "road": 1 in heat\.labels\.map/);
    });
  });

  describe('bad input', () => {
    it('values outside the known classes: error names values, counts and the fix', async () => {
      const file = path.join(dir, 'outside.png');
      await writeGreyPng(file, 4, 1, [0, 1, 7, 7]);
      await assert.rejects(loadLabel(file, mapping({ classCount: 2 })), (error: HeatError) => {
        assert.ok(error instanceof HeatError);
        assert.match(error.message, /outside\.png has values outside the known classes 0\.\.1/);
        assert.match(error.message, /7: 2 pixels/);
        assert.match(error.message, /heat\.labels\.map/);
        assert.match(error.message, /heat\.labels\.ignore/);
        return true;
      });
    });

    it('a negative value after the offset is outside the set', async () => {
      const file = path.join(dir, 'zero.png');
      await writeGreyPng(file, 2, 1, [0, 1]);
      await assert.rejects(loadLabel(file, mapping({ offset: -1 })), /0 \(-1 after offset\/map\): 1 pixels/);
    });

    it('ignored values are counted and reported by the audit', async () => {
      const file = path.join(dir, 'ignored.png');
      await writeGreyPng(file, 4, 1, [0, 1, 7, 7]);
      const m = mapping({ classCount: 2, ignore: [7, 255], userIgnore: [7] });
      const label = await loadLabel(file, m);
      assert.deepEqual(Array.from(label.anomaly), [0, 0, 255, 255]);
      const audit = new LabelAudit();
      audit.add(label.counts);
      audit.add(label.counts);
      assert.equal(audit.summary(), '2 label files: 4 known, 0 anomaly, 4 void pixels.');
      const warnings = audit.warnings(m, true);
      assert.match(warnings[0], /Label value 7 was left out as void \(heat\.labels\.ignore\): 4 pixels in 2 of 2 label files/);
      assert.match(warnings[1], /No anomaly pixels in 2 label files/);
    });

    it('size mismatch names both sizes and the image', async () => {
      const file = path.join(dir, 'small.png');
      await writeGreyPng(file, 3, 2, [0, 0, 0, 0, 0, 0]);
      await assert.rejects(loadLabel(file, mapping(), { width: 6, height: 4, image: '/data/a.jpg' }),
        /small\.png is 3x2 but its image \/data\/a\.jpg is 6x4/);
    });

    it('missing label file names the path', async () => {
      const file = path.join(dir, 'nope.png');
      await assert.rejects(loadLabel(file, mapping()), (error: HeatError) => {
        assert.match(error.message, /Cannot read label file .*nope\.png/);
        return true;
      });
    });

    it('corrupt PNG is a decode error naming the file', async () => {
      const good = await fs.readFile(path.join(FIXTURES, 'grey8.png'));
      const file = path.join(dir, 'corrupt.png');
      await fs.writeFile(file, good.subarray(0, 50));
      await assert.rejects(loadLabel(file, mapping()), /Cannot decode label file .*corrupt\.png: .*truncated/);
    });

    it('non-image bytes are a decode error', async () => {
      const file = path.join(dir, 'text.png.txt');
      await fs.writeFile(file, 'hello');
      await assert.rejects(loadLabel(file, mapping()), /Cannot decode label file .*text\.png\.txt/);
    });

    it('colour-coded label is rejected with the pixel', async () => {
      await assert.rejects(loadLabel(path.join(FIXTURES, 'rgb-colour.png'), mapping()), /is a colour image \(pixel x=0, y=0/);
    });
  });
});
