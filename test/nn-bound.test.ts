import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MemoryBank } from '../src/types.js';
import { bruteForceKnn } from './helpers.js';
import { NearestNeighbours } from '../src/scoring/nn.js';
import { BoundedSearch, squaredDistanceBelow } from '../src/scoring/nn-bound.js';
import { orthonormalise, principalBasis } from '../src/scoring/principal-basis.js';
import { Rng } from '../src/util/rng.js';

/** Rows with a few strong directions and a weak isotropic rest, like CNN patch features. */
function lowRankRows(n: number, D: number, rng: Rng, strong = 6): Float32Array {
  const dirs = Array.from({ length: strong }, () => Float64Array.from({ length: D }, () => rng.normal()));
  const out = new Float32Array(n * D);
  for (let i = 0; i < n; i++) {
    const w = dirs.map((_, s) => rng.normal() * (8 - s));
    for (let j = 0; j < D; j++) {
      let v = 3 + 0.3 * rng.normal();
      for (let s = 0; s < strong; s++) v += w[s] * dirs[s][j] * 0.2;
      out[i * D + j] = v;
    }
  }
  return out;
}

const D = 64;
const rng = new Rng(5);
const data = lowRankRows(400, D, rng);
// exact duplicates (ties: the lower row must win) and near-duplicates (1 ulp-scale apart)
data.copyWithin(10 * D, 3 * D, 4 * D);
data.copyWithin(11 * D, 3 * D, 4 * D);
for (let j = 0; j < D; j++) data[12 * D + j] = data[5 * D + j] * (1 + 1e-7);
const bank: MemoryBank = { dim: D, size: 400, data };
const n = 120;
const queries = lowRankRows(n, D, rng);
queries.set(data.subarray(3 * D, 4 * D), 0); // a query equal to three tied bank rows
queries.set(data.subarray(5 * D, 6 * D), D); // a query beside a near-duplicate pair
for (let j = 0; j < D; j++) queries[2 * D + j] = 40 * Math.sin(j); // far outside the bank's subspace

function assertEqualToBruteForce(res: { index: Int32Array; dist: Float32Array }, k: number, q = queries, rows = n): void {
  const ref = bruteForceKnn(q, rows, bank, k);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < k; j++) {
      assert.equal(res.index[i * k + j], ref.index[i][j], `query ${i} rank ${j}`);
      assert.ok(
        Math.abs(res.dist[i * k + j] - ref.dist[i][j]) <= 1e-6 * (1 + ref.dist[i][j]),
        `query ${i} rank ${j}: ${res.dist[i * k + j]} vs ${ref.dist[i][j]}`,
      );
    }
  }
}

test('the pre-filtered search equals brute force: ranks, ties to the lower row, near-duplicates, k 1 to 9', async () => {
  const s = await BoundedSearch.create(bank, { dims: 8, threads: 1 });
  for (const k of [1, 3, 9]) assertEqualToBruteForce(await s.search(queries, n, k), k);
  const r = await s.search(queries, n, 3);
  assert.deepEqual(Array.from(r.index.subarray(0, 3)), [3, 10, 11]);
  assert.deepEqual(Array.from(r.dist.subarray(0, 3)), [0, 0, 0]);
  await s.release();
});

test('candidates that run out are ranked again, up to every row, and several tiles fall back to all rows', async () => {
  // 2 candidates and 2 dims: most queries need a second and third pass; 70-row tiles cap the candidates at 50
  for (const tileRows of [8192, 70]) {
    const s = await BoundedSearch.create(bank, { dims: 2, candidates: 2, tileRows, threads: 1 });
    assertEqualToBruteForce(await s.search(queries, n, 5), 5);
    await s.release();
  }
});

test('NearestNeighbours.search goes through the pre-filter when it pays and agrees with searchPlain', async () => {
  const nn = await NearestNeighbours.create(bank, { boundDims: 8, threads: 1 });
  assert.ok(nn.usesBound);
  assertEqualToBruteForce(await nn.search(queries, n, 4), 4);
  // the plain reference ranks by the float32 expansion: equal away from ties and near-duplicates
  // (queries 0 and 1, where the expansion may pick the 1e-7-farther twin)
  const plain = await nn.searchPlain(queries, n, 1);
  const fast = await nn.search(queries, n, 1);
  for (let i = 2; i < n; i++) assert.equal(fast.index[i], plain.index[i], `query ${i}`);
  assert.equal((await nn.search(new Float32Array(0), 0, 1)).index.length, 0);
  await assert.rejects(nn.search(queries, n, 401), /Expected an integer 1..400 .* for k but received 401/);
  assert.equal((await NearestNeighbours.create(bank, { boundDims: 0 })).usesBound, false);
  await nn.release();
});

test('squaredDistanceBelow: the full float64 sum, or a partial sum over the limit', () => {
  const q = Float32Array.from({ length: 3 * 7 }, (_, i) => Math.cos(i)); // 7 dims: a ragged tail
  const b: MemoryBank = { dim: 7, size: 3, data: Float32Array.from({ length: 21 }, (_, i) => Math.sin(i)) };
  for (let p = 0; p < 3; p++) {
    for (let m = 0; m < 3; m++) {
      let s = 0;
      for (let j = 0; j < 7; j++) s += (q[p * 7 + j] - b.data[m * 7 + j]) ** 2;
      assert.ok(Math.abs(squaredDistanceBelow(q, p, b, m, Infinity) - s) <= 1e-14 * s);
    }
  }
  const wide: MemoryBank = { dim: 300, size: 1, data: new Float32Array(300).fill(1) };
  const over = squaredDistanceBelow(new Float32Array(300), 0, wide, 0, 40);
  assert.ok(over >= 40 && over < 300, `${over}`); // stopped early
  assert.equal(squaredDistanceBelow(new Float32Array(300), 0, wide, 0, 300), 300);
  assert.equal(squaredDistanceBelow(new Float32Array(300), 0, wide, 0, 16), 300); // a partial equal to the limit: summed in full
});

test('principalBasis: orthonormal rows spanning the strong directions; orthonormalise survives rank deficiency', async () => {
  const { rows, d } = await principalBasis(bank, 6);
  for (let a = 0; a < d; a++) {
    for (let b = 0; b < d; b++) {
      let dot = 0;
      for (let j = 0; j < D; j++) dot += rows[a * D + j] * rows[b * D + j];
      assert.ok(Math.abs(dot - (a === b ? 1 : 0)) < 1e-12, `rows ${a}, ${b}: ${dot}`);
    }
  }
  // the bank's centred rows keep most of their energy in the 6-dim subspace
  const mean = new Float64Array(D);
  for (let m = 0; m < bank.size; m++) for (let j = 0; j < D; j++) mean[j] += data[m * D + j] / bank.size;
  let kept = 0,
    total = 0;
  for (let m = 0; m < bank.size; m++) {
    for (let a = 0; a < d; a++) {
      let c = 0;
      for (let j = 0; j < D; j++) c += (data[m * D + j] - mean[j]) * rows[a * D + j];
      kept += c * c;
    }
    for (let j = 0; j < D; j++) total += (data[m * D + j] - mean[j]) ** 2;
  }
  assert.ok(kept / total > 0.8, `energy kept ${kept / total}`);
  const dup = Float64Array.from([1, 0, 0, 2, 0, 0, 0, 0, 0]); // a parallel row and a zero row
  orthonormalise(dup, 3, 3);
  assert.deepEqual(Array.from(dup), [1, 0, 0, 0, 1, 0, 0, 0, 1]);
});
