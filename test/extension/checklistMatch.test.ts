import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { matchChecklist, parseChecklist, stem, tokens } from '../../src/extension/checklistMatch';
import { CHECKS } from './fixtures/checks';
import { CHECKS as CORE_CHECKS } from '../../src/core/checklist';

const fixture = readFileSync(path.join(__dirname, 'fixtures', 'my-checklist.md'), 'utf8');
const guidePath = path.resolve(__dirname, '..', '..', '..', 'shared', 'seed', 'HEAT-implementation-guide.md');

function matchedIds(text: string): Map<string, string> {
  const lines = parseChecklist(text);
  return new Map(matchChecklist(CHECKS, lines).map((m) => [m.line.text, m.checkId]));
}

describe('checklist matching', () => {
  it('parseChecklist: finds boxes outside code fences with state, columns and section phase', () => {
    const lines = parseChecklist(fixture);
    assert.equal(lines.length, 13);
    assert.ok(!lines.some((l) => l.text.includes('code block')));
    const first = lines[0];
    assert.deepEqual([first.line, first.checked, first.phase, first.boxColumn], [6, true, 1, 3]);
    assert.equal(fixture.split('\n')[first.line].slice(first.textStart), first.text);
    const pizza = lines.find((l) => l.text.startsWith('Order pizza'))!;
    assert.equal(pizza.phase, undefined);
    assert.equal(lines.at(-1)!.checked, true);
  });

  it('stem and tokens: plural, tense and spelling variants meet', () => {
    assert.equal(stem('distances'), 'distance');
    assert.equal(stem('normalised'), stem('normalized'));
    assert.deepEqual(tokens('Covariance is positive definite'), tokens('covariances are positive-definite'));
    assert.deepEqual(tokens('Weights sum to 1.0'), tokens('weight sums to one'));
  });

  it('fixture in other words: each line gets the check it describes', () => {
    const ids = matchedIds(fixture);
    assert.equal(ids.get('The energy map has the right size and plausible values'), 'phase1.energy-shape');
    assert.equal(ids.get('AUPR / AUROC / FPR@95 are reported the usual way'), 'phase1.metric-conventions');
    assert.equal(ids.get('Pick the threshold on the val split, never on test'), 'phase1.threshold-validation');
    assert.equal(ids.get('Beat the max-logit baseline'), 'phase1.beats-max-logit');
    assert.equal(ids.get('Layer dimensions are what we expect for the chosen feature layer'), 'phase2.feature-layer');
    assert.equal(ids.get('Means exist for every class'), 'phase2.class-means');
    assert.equal(ids.get('Covariance is invertible (positive definite)'), 'phase2.covariance-definite');
    assert.equal(ids.get('Stats file saved to disk'), 'phase2.statistics-file');
    assert.equal(ids.get('RAM stays acceptable while collecting statistics'), 'phase2.statistics-memory');
    assert.equal(ids.get('Border/edge pixels are handled without padding artefacts'), 'phase4.padding');
    assert.equal(ids.get('Unknown objects look less consistent than road'), 'phase4.anomaly-less-consistent');
    assert.equal(ids.get('Reliability weights sum to one'), 'phase5.weights-sum');
  });

  it('unrelated line: nothing is placed on it', () => {
    assert.equal(matchedIds(fixture).has('Order pizza for the demo'), false);
  });

  it('one to one: no check takes two lines and no line two checks', () => {
    const matches = matchChecklist(CHECKS, parseChecklist(fixture));
    assert.equal(new Set(matches.map((m) => m.checkId)).size, matches.length);
    assert.equal(new Set(matches.map((m) => m.line.line)).size, matches.length);
  });

  it('small wording change: the same check still matches', () => {
    const variants = ['- [ ] Covariance matrices are positive definite', '- [ ] The covariance matrix is positive-definite', '- [ ] covariance matrices: positive definite?'];
    for (const v of variants) {
      const [m] = matchChecklist(CHECKS, parseChecklist(v));
      assert.equal(m?.checkId, 'phase2.covariance-definite', v);
    }
  });

  it('user guide read in place: all 26 checklist lines match the check of their phase', function () {
    if (!existsSync(guidePath)) {
      console.log(`skipped: ${guidePath} is absent`);
      this.skip();
    }
    const lines = parseChecklist(readFileSync(guidePath, 'utf8'));
    const matches = matchChecklist(CHECKS, lines);
    assert.ok(lines.length >= 20, `expected the guide's checklist lines, found ${lines.length}`);
    const unmatched = lines.filter((l) => !matches.some((m) => m.line === l)).map((l) => l.text);
    assert.deepEqual(unmatched, []);
    for (const m of matches) {
      const check = CHECKS.find((c) => c.id === m.checkId)!;
      assert.equal(check.phase, m.line.phase, `${m.line.text} → ${m.checkId}`);
    }
    const byText = new Map(matches.map((m) => [m.line.text, m.checkId]));
    assert.equal(byText.get('Edge effects handled (padding)'), 'phase4.padding');
    assert.equal(byText.get('Distances are non-negative (verify sqrt operation)'), 'phase3.distance-nonnegative');
    assert.equal(byText.get('Weights sum to 1.0'), 'phase5.weights-sum');
  });

  it('core registry on the user guide: every line gets a check of its phase', function () {
    if (!existsSync(guidePath)) {
      console.log(`skipped: ${guidePath} is absent`);
      this.skip();
    }
    const lines = parseChecklist(readFileSync(guidePath, 'utf8'));
    const matches = matchChecklist(CORE_CHECKS, lines);
    const unmatched = lines.filter((l) => !matches.some((m) => m.line === l)).map((l) => l.text);
    assert.deepEqual(unmatched, []);
    for (const m of matches) {
      const check = CORE_CHECKS.find((c) => c.id === m.checkId)!;
      assert.equal(check.phase, m.line.phase, `${m.line.text} → ${m.checkId}`);
    }
  });

  it('core registry on the own-words fixture: padding and weight lines find their checks', () => {
    const matches = matchChecklist(CORE_CHECKS, parseChecklist(fixture));
    const byText = new Map(matches.map((m) => [m.line.text, m.checkId]));
    assert.match(byText.get('Border/edge pixels are handled without padding artefacts') ?? '', /^phase4\.padding/);
    assert.match(byText.get('Reliability weights sum to one') ?? '', /^phase5\.weights-sum/);
    assert.match(byText.get('Covariance is invertible (positive definite)') ?? '', /^phase2\.covariance/);
    assert.equal(byText.has('Order pizza for the demo'), false);
  });
});
