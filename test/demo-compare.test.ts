// The demo's comparison table: counts and verdicts from given scores and verdicts (no model).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { comparisonTable } from '../src/cli/commands/demo-compare.js';
import type { Dataset } from '../src/data/dataset.js';

const ds = {
  root: 'x',
  train: [],
  hasMasks: false,
  test: [0, 0, 0, 1, 1].map((label, i) => ({ file: `${i}.png`, defect: label ? 'scratch' : 'good', label })),
} as unknown as Dataset;

test('comparison: AUROC, false alarms on good parts, misses, and a plain verdict per method', () => {
  const lines = comparisonTable(ds, [
    { name: 'baseline', scores: [1, 5, 2, 4, 6], anomalous: [false, true, false, true, true] },
    { name: 'better', scores: [1, 2, 3, 4, 5], anomalous: [false, false, false, true, true] },
    { name: 'worse', scores: [5, 2, 3, 4, 1], anomalous: [true, false, false, false, false] },
  ]);
  const text = lines.join('\n');
  assert.match(text, /^SYNTHETIC data/);
  assert.match(text, /\| baseline \| 0\.833 \| 1 of 3 \| 0 of 2 \|/);
  assert.match(text, /\| better \| 1\.000 \| 0 of 3 \| 0 of 2 \|/);
  assert.match(text, /\| worse \| 0\.333 \| 1 of 3 \| 2 of 2 \|/);
  assert.match(text, /- better: helps on this set/);
  assert.match(text, /- worse: does not help on this set/);
});
