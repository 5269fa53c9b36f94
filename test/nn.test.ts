import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MemoryBank } from '../src/types.js';
import { bruteForceKnn } from './helpers.js';
import { NearestNeighbours, buildNeighbourTable } from '../src/scoring/nn.js';
import { UserError } from '../src/util/errors.js';

/** Deterministic uniform(-1,1) values (mulberry32). */
function randomFloats(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let a = seed >>> 0;
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

function check(res: { index: Int32Array; dist: Float32Array }, ref: ReturnType<typeof bruteForceKnn>, n: number, k: number): void {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const d = res.dist[i * k + j];
      assert.ok(Math.abs(d - ref.dist[i][j]) <= 1e-3 * ref.dist[i][j] + 1e-6, `row ${i} rank ${j}: ${d} vs ${ref.dist[i][j]}`);
      // Indices must match unless the reference has an exact tie at this rank.
      if (res.index[i * k + j] !== ref.index[i][j]) {
        assert.equal(d, ref.dist[i][ref.index[i].indexOf(res.index[i * k + j])], `row ${i} rank ${j}: index differs without a tie`);
      }
    }
  }
}

const D = 24;
const bank: MemoryBank = { dim: D, size: 300, data: randomFloats(300 * D, 1) };
const queries = randomFloats(50 * D, 2);

test('search equals brute force, single tile and several tiles (with a ragged last tile)', async () => {
  const ref = bruteForceKnn(queries, 50, bank, 5);
  for (const tileRows of [8192, 70]) {
    const nn = await NearestNeighbours.create(bank, { tileRows, threads: 1 });
    for (const k of [1, 5]) {
      const res = await nn.search(queries, 50, k);
      assert.equal(res.index.length, 50 * k);
      check(res, { index: ref.index.map((r) => r.slice(0, k)), dist: ref.dist.map((r) => r.slice(0, k)) }, 50, k);
    }
    // The Gemm-expansion distances (exact=false) are close too for well-separated points.
    check(await nn.search(queries, 50, 5, false), ref, 50, 5);
  }
});

test('more queries than one graph run takes (1,024): the runs join in order, equal to brute force', async () => {
  const D = bank.dim,
    n = 4500;
  const q = randomFloats(n * D, 99);
  const ref = bruteForceKnn(q, n, bank, 3);
  const nn = await NearestNeighbours.create(bank, { threads: 1 });
  check(await nn.search(q, n, 3), ref, n, 3);
  assert.equal((await nn.search(new Float32Array(0), 0, 3)).index.length, 0);
});

test('exact mode gives 0 for a duplicate query where the expansion does not have to', async () => {
  // Large-norm vectors make the cancellation in ‖q‖² − 2q·b + ‖b‖² visible.
  const big: MemoryBank = { dim: 256, size: 20, data: randomFloats(20 * 256, 3).map((x) => 50 + x) };
  const nn = await NearestNeighbours.create(big, { threads: 1 });
  const q = big.data.slice(7 * 256, 8 * 256);
  const exact = await nn.search(q, 1, 2);
  assert.equal(exact.index[0], 7);
  assert.equal(exact.dist[0], 0);
  const approx = await nn.search(q, 1, 2, false);
  assert.ok(approx.dist[0] >= 0 && Number.isFinite(approx.dist[0]), 'clamp keeps the expansion non-negative');
});

test('k outside 1..size is a UserError', async () => {
  const nn = await NearestNeighbours.create(bank, { threads: 1 });
  await assert.rejects(nn.search(queries, 50, 301), UserError);
  await assert.rejects(nn.search(queries, 50, 0), UserError);
});

test('neighbour table: each row starts with the point itself, then its nearest bank points', async () => {
  const small: MemoryBank = { dim: D, size: 40, data: randomFloats(40 * D, 4) };
  // Exact duplicate of row 3 at row 10: both rows must still start with themselves.
  small.data.copyWithin(10 * D, 3 * D, 4 * D);
  const nn = await NearestNeighbours.create(small, { threads: 1 });
  const b = 4;
  const table = await buildNeighbourTable(small, b, nn, 16);
  assert.equal(table.length, 40 * b);
  const ref = bruteForceKnn(small.data, 40, small, b + 1);
  for (let i = 0; i < 40; i++) {
    const row = Array.from(table.subarray(i * b, (i + 1) * b));
    assert.equal(row[0], i);
    assert.equal(new Set(row).size, b, `row ${i} has repeats`);
    const expected = ref.index[i].filter((m) => m !== i).slice(0, b - 1);
    assert.deepEqual(row.slice(1), expected, `row ${i}`);
  }
  assert.equal(table[3 * b + 1], 10);
  assert.equal(table[10 * b + 1], 3);
});
