// The K-fold estimate bench/studies/heldout.ts uses: training goods held out per fold join the good test images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldAuroc, folds, identityDraw, interval, resample, type FoldScores } from '../bench/studies/heldout.js';
import { Rng } from '../src/util/rng.js';

/** P(defect > good) + ½ P(tie), by counting every pair. */
function pairs(goods: number[], bads: number[]): number {
  let s = 0;
  for (const g of goods) for (const b of bads) s += b > g ? 1 : b === g ? 0.5 : 0;
  return s / (goods.length * bads.length);
}

const rng = new Rng(5);
const labels = [0, 0, 0, 1, 1, 1, 1, 1];
const K = 3;
const split = folds(12, K, 7);
const s: FoldScores = {
  heldout: split,
  heldoutScores: split.map((h) => h.map(() => Math.round(rng.next() * 6) / 2)), // ties on purpose
  testScores: split.map(() => labels.map((l) => Math.round((l + rng.next() * 3) * 2) / 2)),
  labels,
};

test('folds partition the training images, each sorted, sizes within one', () => {
  assert.deepEqual(
    split.flat().sort((a, b) => a - b),
    [...Array(12).keys()],
  );
  for (const f of split)
    assert.deepEqual(
      f,
      [...f].sort((a, b) => a - b),
    );
  assert.deepEqual(
    split.map((f) => f.length),
    [4, 4, 4],
  );
  assert.notDeepEqual(split, folds(12, K, 8)); // the seed matters
});

test('each variant is the mean over folds of the pair-counting AUROC of its goods against the defects', () => {
  const d = identityDraw(s);
  for (const [goods, expect] of [
    [
      'both',
      (t: number[], h: number[]) =>
        pairs(
          [...h, ...t.filter((_, i) => labels[i] === 0)],
          t.filter((_, i) => labels[i] === 1),
        ),
    ],
    [
      'test',
      (t: number[]) =>
        pairs(
          t.filter((_, i) => labels[i] === 0),
          t.filter((_, i) => labels[i] === 1),
        ),
    ],
    [
      'heldout',
      (t: number[], h: number[]) =>
        pairs(
          h,
          t.filter((_, i) => labels[i] === 1),
        ),
    ],
    [
      'testVsHeldout',
      (t: number[], h: number[]) =>
        pairs(
          h,
          t.filter((_, i) => labels[i] === 0),
        ),
    ],
  ] as const) {
    const want = split.reduce((a, _, k) => a + expect(s.testScores[k], s.heldoutScores[k]), 0) / K;
    assert.ok(Math.abs(foldAuroc(s, d, goods) - want) < 1e-12, `${goods}: ${foldAuroc(s, d, goods)} vs ${want}`);
  }
});

test('the interval brackets the estimate, repeats with its seed, and is 0 wide for a difference with itself', () => {
  const d = identityDraw(s);
  const a = interval(d, 300, (x) => foldAuroc(s, x, 'both'));
  const est = foldAuroc(s, d, 'both');
  assert.ok(a.lo <= est && est <= a.hi && a.lo < a.hi, JSON.stringify(a));
  assert.deepEqual(
    interval(d, 300, (x) => foldAuroc(s, x, 'both')),
    a,
  );
  const zero = interval(d, 100, (x) => foldAuroc(s, x, 'both') - foldAuroc(s, x, 'both'));
  assert.deepEqual(zero, { lo: 0, hi: 0, atMostZero: 1 });
});

test('a resample keeps the size of each stratum and draws only from that stratum', () => {
  const d = identityDraw(s);
  const r = resample(d, new Rng(3));
  for (const [got, from] of [[r.bad, d.bad], [r.good, d.good], ...r.heldout.map((h, k) => [h, d.heldout[k]])] as [number[], number[]][]) {
    assert.equal(got.length, from.length);
    assert.ok(
      got.every((x) => from.includes(x)),
      `${got} drawn outside ${from}`,
    );
  }
  // with replacement: over 40 draws each stratum repeats an image somewhere (a permutation never does)
  const draws = Array.from({ length: 40 }, (_, i) => resample(d, new Rng(100 + i)));
  const repeats = (pick: (x: typeof d) => number[]) => draws.some((x) => new Set(pick(x)).size < pick(x).length);
  assert.ok(repeats((x) => x.bad) && repeats((x) => x.good), 'defects and test goods are drawn with replacement');
  d.heldout.forEach((_, k) =>
    assert.ok(
      repeats((x) => x.heldout[k]),
      `fold ${k}'s held-out goods are drawn with replacement`,
    ),
  );
});

test('a setting that moves every defect up by a margin gets an interval above 0', () => {
  const d = identityDraw(s);
  const shifted: FoldScores = { ...s, testScores: s.testScores.map((t) => t.map((v, i) => (labels[i] === 1 ? v + 2 : v))) };
  const diff = (x: typeof d) => foldAuroc(shifted, x, 'both') - foldAuroc(s, x, 'both');
  const ci = interval(d, 300, diff);
  assert.ok(diff(d) > 0 && ci.lo >= 0 && ci.atMostZero < 0.05, JSON.stringify({ diff: diff(d), ...ci }));
});
