import { strict as assert } from 'node:assert';
import type { CheckResult } from '../../src/core/api';
import { findSettingSpans, placeResults, positionAt } from '../../src/extension/placement';

// Comments, a trailing comma and a non-HEAT key, as VS Code allows in settings.json.
const SETTINGS = [
  '{',
  '  // model and statistics',
  '  "editor.tabSize": 2,',
  '  "heat.score.padding": "zero",',
  '  "heat.statistics.covariance":',
  '    "classwise",',
  '  "heat.score.temperature": 1.5,',
  '}',
].join('\n');

function result(id: string, status: CheckResult['status'], settings: string[], title = id): CheckResult {
  return { id, phase: 4, title, status, evidence: `measured for ${id}`, settings };
}

describe('diagnostic placement', () => {
  it('findSettingSpans: key start to value end, across lines, comments allowed', () => {
    const spans = findSettingSpans(SETTINGS, ['heat.score.padding', 'heat.statistics.covariance', 'heat.model.path']);
    assert.deepEqual(spans.get('heat.score.padding'), { start: { line: 3, character: 2 }, end: { line: 3, character: 30 } });
    assert.deepEqual(spans.get('heat.statistics.covariance'), { start: { line: 4, character: 2 }, end: { line: 5, character: 15 } });
    assert.equal(spans.has('heat.model.path'), false);
  });

  it('findSettingSpans: broken or non-object JSON gives no spans', () => {
    assert.equal(findSettingSpans('[1, 2]', ['heat.score.padding']).size, 0);
    assert.equal(findSettingSpans('', ['heat.score.padding']).size, 0);
  });

  it('positionAt: counts lines and columns from 0', () => {
    assert.deepEqual(positionAt('ab\ncd', 4), { line: 1, character: 1 });
    assert.deepEqual(positionAt('ab\ncd', 0), { line: 0, character: 0 });
  });

  it('placeResults: status maps to severity, one placement per key and per matched line', () => {
    const results = [
      result('phase4.padding', 'fail', ['heat.score.padding'], 'Border cells are not biased by padding'),
      result('phase2.covariance', 'warn', ['heat.statistics.covariance', 'heat.statistics.regularization'], 'Covariance is positive definite'),
      result('phase1.energy', 'pass', ['heat.score.temperature'], 'Energy map has the expected shape'),
      result('phase3.skipped', 'skip', ['heat.score.temperature']),
    ];
    const markdown = [{ file: '/ws/notes.md', text: '## Phase 4\n- [ ] Edge effects handled (padding)\n- [ ] Buy milk\n' }];
    const placements = placeResults({ results, settings: { file: '/ws/.vscode/settings.json', text: SETTINGS }, markdown, showPassed: true });
    const summary = placements.map((p) => `${p.file}:${p.span.start.line}:${p.severity}:${p.checkId}`).sort();
    assert.deepEqual(summary, [
      '/ws/.vscode/settings.json:3:error:phase4.padding',
      '/ws/.vscode/settings.json:4:warning:phase2.covariance',
      '/ws/.vscode/settings.json:6:information:phase1.energy',
      '/ws/notes.md:1:error:phase4.padding',
    ]);
    const md = placements.find((p) => p.file === '/ws/notes.md')!;
    assert.deepEqual(md.span, { start: { line: 1, character: 6 }, end: { line: 1, character: 36 } });
    assert.match(md.message, /^HEAT check fail: Border cells are not biased by padding\. measured for phase4\.padding/);
  });

  it('placeResults: showPassed false hides passes but they keep their own line', () => {
    const results = [
      result('phase5.weights', 'pass', [], 'Reliability weights sum to one'),
      result('phase5.range', 'warn', [], 'Combined weights are within range'),
    ];
    const markdown = [{ file: 'c.md', text: '- [ ] Weights sum to 1.0\n' }];
    assert.equal(placeResults({ results, markdown, showPassed: true })[0].checkId, 'phase5.weights');
    assert.deepEqual(placeResults({ results, markdown, showPassed: false }), []);
  });
});
