// From scores to decisions: the conformal quantile, the normalised score, the leave-one-image-out
// training scores (pruned vs plain), and the promised false-alarm rate on held-out good parts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conformalThreshold, normalizeScore, normalizationScale } from '../src/scoring/decision.js';
import { PairwiseKnn, pairwiseKnnPlain } from '../src/scoring/pairwise-knn.js';
import { defectRegions } from '../src/model/regions.js';
import { confusion, f1Threshold, recallThreshold } from '../src/model/calibrate.js';
import { f1Max } from '../src/metrics/index.js';
import { Rng } from '../src/util/rng.js';

test('conformal threshold: the ⌈(n+1)(1−A)⌉-th smallest score; too few scores say so', () => {
  const s = Array.from({ length: 99 }, (_, i) => 99 - i); // 1..99, unsorted
  assert.deepEqual(conformalThreshold(s, 0.05), { value: 95, n: 99, rank: 95, promisedFpr: 0.05 });
  assert.equal(conformalThreshold(s, 0.1).value, 90);
  const few = conformalThreshold([3, 1, 2], 0.05);
  assert.equal(few.value, 3);
  assert.equal(few.promisedFpr, 0.25);
  assert.match(few.warning!, /3 training images cannot promise a false-alarm rate of 0.05: it needs at least 19/);
  // exchangeable draws: a new draw exceeds the threshold with probability ≤ A (here ≈ A, continuous scores)
  const rng = new Rng(7);
  let over = 0;
  const trials = 4000;
  for (let t = 0; t < trials; t++) {
    const cal = Array.from({ length: 39 }, () => rng.normal());
    if (rng.normal() > conformalThreshold(cal, 0.1).value) over++;
  }
  assert.ok(Math.abs(over / trials - 0.1) < 0.015, `false-alarm rate ${over / trials}`);
});

test('normalized score: strictly monotone, exactly 0.5 at the threshold, in (0, 1)', () => {
  const scale = normalizationScale([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.ok(Math.abs(scale - (9 - 6) / Math.log(9)) < 1e-12, `scale ${scale}`); // q90 = 9, q50 = 6 (nearest rank)
  assert.equal(normalizeScore(4.2, 4.2, scale), 0.5);
  let prev = -1;
  for (let s = 0; s < 20; s += 0.25) {
    const v = normalizeScore(s, 9, scale);
    assert.ok(v > prev && v > 0 && v < 1, `${s} -> ${v}`);
    prev = v;
  }
  assert.ok(normalizationScale([2, 2, 2]) > 0, 'degenerate spread still gives a positive scale');
});

test('PairwiseKnn (ONNX Runtime) equals the plain float64 search', async () => {
  const rng = new Rng(3);
  const D = 24,
    n = 40,
    m = 300,
    k = 5;
  const q = Float32Array.from({ length: n * D }, () => rng.normal());
  const b = Float32Array.from({ length: m * D }, () => rng.normal());
  const knn = await PairwiseKnn.create(D);
  const fast = await knn.search(q, n, b, m, k);
  const plain = pairwiseKnnPlain(q, n, b, m, D, k);
  assert.deepEqual(Array.from(fast.index), Array.from(plain.index));
  for (let i = 0; i < fast.dist.length; i++) assert.ok(Math.abs(fast.dist[i] - plain.dist[i]) < 1e-4 * (1 + plain.dist[i]));
  await knn.release();
  // queries in several runs (7 rows each, the last one short): the same answer
  const small = await PairwiseKnn.create(D, undefined, 7 * m);
  const runs = await small.search(q, n, b, m, k);
  assert.deepEqual(Array.from(runs.index), Array.from(plain.index));
  assert.deepEqual(Array.from(runs.dist), Array.from(fast.dist));
  assert.equal((await small.search(q, 0, b, m, k)).index.length, 0);
  await small.release();
});

test('defect regions: 8-connected blobs, areas and boxes as brute force; small ones dropped', () => {
  const W = 12,
    H = 8;
  const mask = new Uint8Array(W * H);
  const set = (x: number, y: number) => (mask[y * W + x] = 1);
  for (let y = 1; y <= 3; y++) for (let x = 2; x <= 5; x++) set(x, y); // 12 px, box (2,1) 4×3
  set(6, 4); // touches the block diagonally: same blob -> 13 px, box 5×4
  set(10, 6); // a 1-px speck
  const all = defectRegions(mask.slice(), W, H);
  assert.deepEqual(all, [
    { area: 13, box: { x: 2, y: 1, width: 5, height: 4 } },
    { area: 1, box: { x: 10, y: 6, width: 1, height: 1 } },
  ]);
  const m2 = mask.slice();
  assert.deepEqual(
    defectRegions(m2, W, H, 2).map((r) => r.area),
    [13],
  );
  assert.equal(m2[6 * W + 10], 0, 'the dropped speck is cleared from the mask');
});

test('calibration thresholds: F1-max as eval reports it; min-recall with the fewest false alarms', () => {
  const scores = [0.1, 0.2, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
  const labels = [0, 0, 0, 1, 0, 1, 0, 1, 1, 1];
  const t = f1Threshold(scores, labels);
  const c = confusion(scores, labels, t);
  const f = f1Max(scores, labels);
  assert.ok(f.value !== null);
  assert.equal((2 * c.tp) / (2 * c.tp + c.fp + c.fn), f.value);
  // brute force: of all cut points, the largest that flags ≥ 80 % of the 5 defects
  const r = recallThreshold(scores, labels, 0.8);
  const cr = confusion(scores, labels, r);
  assert.deepEqual(cr, { tp: 4, fn: 1, fp: 1, tn: 4 });
  assert.ok(r > 0.4 && r < 0.5, `threshold ${r}`);
});
