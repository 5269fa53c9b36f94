import { test } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { Rng } from '../src/util/rng.js';
import { coverage } from './coverage.js';
import { MinUpdate, minUpdateRef } from '../src/memory/coreset/composable/simd.js';
import { blockRows, chunkStage, kernelGreedy, pairBudget, planBlocks, unionFactor, type ComposableStats } from '../src/memory/coreset/composable/blocks.js';
import { composableCoreset, finalStage } from '../src/memory/coreset/composable/composable.js';
import { pickStarts, plainGreedyCoreset } from '../src/memory/coreset/plain.js';
import { FeatureStore } from '../src/memory/feature-store.js';
import { selectCoreset } from '../src/memory/select.js';
import { greedyCoreset, greedyCoresetWithin, withinBudget } from '../src/memory/coreset/exact/greedy.js';

function gaussian(n: number, dim: number, seed: number, shared = false): Float32Array {
  const rng = new Rng(seed);
  const z = shared ? new Float32Array(new SharedArrayBuffer(n * dim * 4)) : new Float32Array(n * dim);
  for (let i = 0; i < z.length; i++) z[i] = rng.normal();
  return z;
}

/** Blobs of different spread and 1 % far outliers (the rare patches a coreset must not miss). */
function blobs(n: number, dim: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const centers = Array.from({ length: 20 }, () => Array.from({ length: dim }, () => rng.normal() * 4));
  const z = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    if (rng.next() < 0.01) {
      for (let d = 0; d < dim; d++) z[i * dim + d] = (rng.next() - 0.5) * 60;
      continue;
    }
    const k = rng.int(20),
      s = 0.2 + (k % 5) * 0.3;
    for (let d = 0; d < dim; d++) z[i * dim + d] = centers[k][d] + s * rng.normal();
  }
  return z;
}

test('SIMD kernel equals its plain version bit for bit (padded dims, duplicates, ties)', () => {
  for (const dim of [128, 20, 3]) {
    const n = 700,
      z = gaussian(n, dim, dim);
    z.copyWithin(5 * dim, 9 * dim, 10 * dim); // row 5 = row 9: equal δ, the lowest index must win
    const k = new MinUpdate(dim);
    const all = Int32Array.from({ length: n }, (_, i) => i);
    const d = k.load(z, all);
    const f = new Float32Array(n * k.dimP);
    for (let i = 0; i < n; i++) f.set(z.subarray(i * dim, (i + 1) * dim), i * k.dimP);
    const ref = new Float32Array(n).fill(Infinity);
    for (const c of [0, 9, 333, 699, 5]) {
      assert.equal(k.update(c), minUpdateRef({ data: f, n, dim: k.dimP }, c, ref), `dim ${dim} center ${c}`);
      assert.deepEqual(d, ref);
    }
  }
});

test('the kernel greedy is the official greedy (same picks as the float64 plain loop)', () => {
  const n = 1500,
    dim = 32,
    z = blobs(n, dim, 3),
    count = 150;
  const starts = pickStarts(n, 4);
  const plain = plainGreedyCoreset({ data: z, n, dim }, count, starts);
  const kern = kernelGreedy(new MinUpdate(dim), { data: z, rows: Int32Array.from({ length: n }, (_, i) => i) }, { keep: count, starts });
  assert.deepEqual(Array.from(kern), Array.from(plain));
});

test('composable: blocks keep their share, the bank is taken from the union, threads change nothing', () => {
  const n = 24_000,
    dim = 64,
    count = 240,
    z = gaussian(n, dim, 7, true);
  const o = { chunkRows: 1000, union: 2 };
  const plan = planBlocks(n, count, o);
  assert.equal(plan.length, 24);
  assert.ok(plan.every((b) => b.keep === 20));
  const one = chunkStage({ data: z, n, dim }, count, 5, { ...o, threads: 1 });
  const two = chunkStage({ data: z, n, dim }, count, 5, { ...o, threads: 2, awaitWorker: true });
  assert.deepEqual(two.union, one.union);
  assert.equal(one.union.length, 480);
  assert.equal(two.blocks.length, 2);
  assert.ok(two.blocks[0] > 0 && two.blocks[1] > 0, `both threads took blocks: ${two.blocks}`);
  assert.equal(two.blocks[0] + two.blocks[1], 24);
  // each block's centers lie in the block
  for (const b of plan) for (const u of one.union.filter((r) => r >= b.from && r < b.to)) assert.ok(u >= b.from && u < b.to);
  const bank = finalStage({ data: z, dim }, one.union, count, 1);
  assert.equal(new Set(bank).size, count);
  const inUnion = new Set(one.union);
  assert.ok(Array.from(bank).every((r) => inUnion.has(r)));
  const stats = {} as ComposableStats;
  assert.deepEqual(composableCoreset({ data: z, n, dim }, count, 1, { chunkSeed: 5, ...o, stats }), bank);
  assert.equal(stats.union, 480);
});

test('composable from the spilled projections file: the same union and bank as from memory, on both threads', async () => {
  const n = 6000,
    dim = 128,
    count = 60,
    z = gaussian(n, dim, 12);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'patchcore-test-')), 'projected.f32');
  fs.writeFileSync(file, new Uint8Array(z.buffer));
  try {
    const o = { chunkRows: 500, union: 2 };
    const mem = chunkStage({ data: z, n, dim }, count, 3, { ...o, threads: 1 });
    const disk = chunkStage({ data: file, n, dim }, count, 3, { ...o, threads: 2, awaitWorker: true });
    assert.deepEqual(disk.union, mem.union);
    assert.ok(disk.blocks[0] > 0 && disk.blocks[1] > 0, `both threads read blocks: ${disk.blocks}`);
    assert.deepEqual(finalStage({ data: file, dim }, disk.union, count, 1), finalStage({ data: z, dim }, mem.union, count, 1));
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
});

test('composable coverage: within r₁ + r₂ and near the exact greedy, far better than random', () => {
  const n = 6000,
    dim = 8,
    z = blobs(n, dim, 11),
    count = 120,
    o = { chunkRows: 1000, threads: 1 };
  const union = chunkStage({ data: z, n, dim }, count, 2, { ...o }).union;
  const bank = finalStage({ data: z, dim }, union, count, 2);
  // r₁: each block covered by its own centers; r₂: the union covered by the bank
  let r1 = 0;
  for (const b of planBlocks(n, count, o)) {
    const mine = union.filter((r) => r >= b.from && r < b.to).map((r) => r - b.from);
    r1 = Math.max(r1, coverage(z.subarray(b.from * dim, b.to * dim), b.to - b.from, dim, mine));
  }
  const uz = new Float32Array(union.length * dim);
  union.forEach((r, k) => uz.set(z.subarray(r * dim, (r + 1) * dim), k * dim));
  const pos = new Map(Array.from(union, (r, k) => [r, k]));
  const r2 = coverage(
    uz,
    union.length,
    dim,
    bank.map((r) => pos.get(r)!),
  );
  const got = coverage(z, n, dim, bank);
  assert.ok(got <= r1 + r2 + 1e-9, `${got} ≤ ${r1} + ${r2}`);
  const exact = coverage(z, n, dim, plainGreedyCoreset({ data: z, n, dim }, count, pickStarts(n, 2)));
  const random = coverage(z, n, dim, pickStarts(n, 9, count));
  assert.ok(got < 1.5 * exact, `composable ${got} vs exact ${exact}`);
  assert.ok(got < 0.8 * random, `composable ${got} vs random ${random}`);
});

test('auto: exact when the exact greedy is cheap, composable past its budget; eval runs share the blocks', async () => {
  const n = 3000,
    dim = 64;
  const store = new FeatureStore({ seed: 3, inMemory: true });
  const data = blobs(n, dim, 5);
  for (let i = 0; i < n; i += 500) await store.append({ gridH: 1, gridW: 500, dim, count: 500, data: data.subarray(i * dim, (i + 500) * dim) });
  const small = await selectCoreset(store, { ratio: 0.05, seed: 0 });
  assert.equal(small.algorithm, 'exact');
  assert.deepEqual(small.indices, (await selectCoreset(store, { ratio: 0.05, seed: 0, method: 'exact' })).indices);
  const a = await selectCoreset(store, { ratio: 0.05, seed: 0, method: 'composable', composable: { chunkRows: 400, threads: 1 } });
  assert.equal(a.algorithm, 'composable');
  assert.match(a.note, /composable: 8 block\(s\).*, last 38 centers by the greedy over all rows/);
  const b = await selectCoreset(store, { ratio: 0.05, seed: 1, method: 'composable', composable: { chunkRows: 400, threads: 1 } });
  assert.notDeepEqual(a.indices, b.indices, 'another run seed redraws the final stage');
  assert.deepEqual((await selectCoreset(store, { ratio: 0.05, seed: 0, method: 'composable', composable: { chunkRows: 400, threads: 1 } })).indices, a.indices);
});

test('exact greedy within a work budget: the same result, or null once the budget is passed', () => {
  const n = 4000,
    dim = 32,
    z = gaussian(n, dim, 8),
    count = 200,
    starts = pickStarts(n, 1);
  const stats = { threads: 0, distances: [] as number[], work: [] as number[] };
  const full = greedyCoreset({ data: z, n, dim }, { count, starts, threads: 1, stats });
  const work = stats.work[0];
  assert.ok(work > 0);
  assert.deepEqual(greedyCoresetWithin({ data: z, n, dim }, work, { count, starts, threads: 1 }), full);
  assert.equal(greedyCoresetWithin({ data: z, n, dim }, work / 4, { count, starts, threads: 1 }), null);
  assert.equal(greedyCoresetWithin({ data: z, n, dim }, work / 4, { count, starts, threads: 2 }), null);
});

test('the budget check: under the budget always before 1 % of the centers, then heading for at most 8×, from 5 % at most 2×', () => {
  const within = withinBudget(100, 1000);
  assert.equal(within(8, 99), true); // before 1 %: only the budget itself
  assert.equal(within(8, 101), false);
  assert.equal(within(9, 5), true); // at 1 %: heading for 500 = 5× the budget
  assert.equal(within(9, 10), false); // heading for 1000 = 10×
  assert.equal(within(48, 16), true); // 4.9 %: 327 = 3.3×
  assert.equal(within(49, 10), true); // 5 %: 200 = 2×
  assert.equal(within(49, 11), false); // 220 = 2.2×
  const few = withinBudget(100, 50); // 1 % is the first center: the 8× check waits for the 10th
  assert.equal(few(0, 50), true);
  assert.equal(few(9, 50), false);
});

test('plan: one block when the greedy over all rows fits the budget, else the largest union factor within it; exactly the count at f = 1', () => {
  assert.equal(blockRows(50_000, 500), 50_000); // 2.5e7 pairs ≤ 3e7: the official greedy itself
  assert.equal(blockRows(131_250, 1312), 16_384);
  assert.equal(unionFactor(20_000, 200, 1000), 20); // cheap: every block keeps the whole count (Malkomes)
  assert.ok(Math.abs(unionFactor(1_190_720, 11_907) - pairBudget(1_190_720) / (11_907 * (16_384 + 11_907))) < 1e-9);
  assert.equal(unionFactor(12_000_000, 1_200_000), 1);
  assert.ok(blockRows(200_000, 20_000) < 16_384, 'large ratios: smaller blocks');
  for (const [n, count] of [
    [131_250, 1312],
    [1_190_720, 11_907],
    [2_400_000, 24_000],
    [200_000, 20_000],
  ]) {
    const plan = planBlocks(n, count),
      union = plan.reduce((s, b) => s + b.keep, 0);
    const pairs = plan.reduce((s, b) => s + (b.to - b.from) * b.keep, 0) + (union > count ? union * count : 0);
    assert.ok(pairs <= 1.1 * pairBudget(n), `${n} × ${count}: ${pairs} pairs`);
  }
  for (const [n, count] of [
    [100_003, 999],
    [50_000, 50_000],
    [16_385, 7],
  ]) {
    const plan = planBlocks(n, count, { union: 1 });
    assert.equal(
      plan.reduce((s, b) => s + b.keep, 0),
      count,
      `${n} ${count}`,
    );
    assert.ok(plan.every((b) => b.keep >= 0 && b.keep <= b.to - b.from));
  }
});
