// The paired bootstrap bench/studies/paired.ts uses to compare two settings on the same test images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pairedBootstrap } from '../bench/studies/paired.js';
import { Rng } from '../src/util/rng.js';

const rng = new Rng(11);
const labels = Array.from({ length: 120 }, (_, i) => (i < 30 ? 0 : 1));
const noisy = labels.map((l) => l + rng.next() * 2.5); // AUROC ≈ 0.7
const clean = labels.map((l) => l + rng.next() * 0.5); // AUROC 1

test('the same scores differ by exactly 0 in every resample', () => {
  const r = pairedBootstrap(noisy, noisy, labels, 200);
  assert.deepEqual([r.diff, r.lo, r.hi, r.atMostZero], [0, 0, 0, 1]);
});

test('a clearly better setting gets an interval above 0; the order of A and B flips the sign', () => {
  const r = pairedBootstrap(clean, noisy, labels, 500);
  assert.ok(r.diff > 0.1 && r.lo > 0.05 && r.hi >= r.diff && r.atMostZero === 0, JSON.stringify(r));
  const back = pairedBootstrap(noisy, clean, labels, 500);
  assert.ok(Math.abs(back.diff + r.diff) < 1e-12 && back.hi < 0 && back.atMostZero === 1);
});

test('one defect moved to the top: a small gain whose interval reaches 0 (resamples without it)', () => {
  const nudged = noisy.slice();
  let low = 30;
  for (let i = 30; i < 120; i++) if (noisy[i] < noisy[low]) low = i;
  nudged[low] = Math.max(...noisy) + 1;
  const r = pairedBootstrap(nudged, noisy, labels, 500);
  assert.ok(r.diff > 0 && r.lo === 0 && r.hi > 0 && r.atMostZero > 0.2 && r.atMostZero < 0.6, JSON.stringify(r));
});
