import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Rng } from '../src/util/rng.js';
import { coverage } from './coverage.js';
import { dist2 } from '../src/memory/distance.js';
import { chunkStage } from '../src/memory/coreset/composable/blocks.js';
import { finalStage } from '../src/memory/coreset/composable/composable.js';
import { continueGreedy, continueGreedyPlain, searchNearest, type TailStats } from '../src/memory/coreset/composable/tail.js';

/** Blobs plus 2 % far outliers: rows the composable union tends to miss. */
function blobs(n: number, dim: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const centers = Array.from({ length: 12 }, () => Array.from({ length: dim }, () => rng.normal() * 4));
  const z = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const far = rng.next() < 0.02,
      k = rng.int(12);
    for (let d = 0; d < dim; d++) z[i * dim + d] = far ? (rng.next() - 0.5) * 40 : centers[k][d] + 0.5 * rng.normal();
  }
  return z;
}

/** Brute force: each row's distance to its nearest center (float64), as the batched search reports it. */
function bruteNearest(z: Float32Array, n: number, dim: number): (c: Int32Array) => Promise<Float64Array> {
  return async (centers) => Float64Array.from({ length: n }, (_, i) => Math.sqrt(Math.min(...Array.from(centers, (c) => dist2(z, i * dim, z, c * dim, dim)))));
}

function composable(z: Float32Array, n: number, dim: number, count: number, seed: number): Int32Array {
  const union = chunkStage({ data: z, n, dim }, count, 0, { chunkRows: 500, threads: 1, union: 2 }).union;
  return finalStage({ data: z, dim }, union, count, seed);
}

test('tail: the greedy continued over all rows, the same picks as the plain continuation, and never above τ', async () => {
  const n = 3000,
    dim = 16,
    z = blobs(n, dim, 3),
    count = 80;
  const sel = composable(z, n, dim, count, 1);
  for (const tail of [1, 8, 20]) {
    const plain = continueGreedyPlain({ data: z, n, dim }, sel, tail);
    // every row a candidate: the whole tail is the all-rows greedy's
    assert.deepEqual(await continueGreedy({ data: z, n, dim }, sel, tail, { nearest: bruteNearest(z, n, dim), candidatesPerCenter: n }), plain, `tail ${tail}`);
    const stats = {} as TailStats;
    const fast = await continueGreedy({ data: z, n, dim }, sel, tail, { nearest: bruteNearest(z, n, dim), candidatesPerCenter: 16, stats });
    assert.ok(stats.candidates < n && stats.continued >= 1, JSON.stringify(stats));
    const upTo = count - tail + stats.continued;
    assert.deepEqual(fast.subarray(0, upTo), plain.subarray(0, upTo), `tail ${tail}: the candidates' picks are the plain ones`);
    assert.deepEqual(fast.subarray(0, count - tail), sel.subarray(0, count - tail), 'the composable head is kept');
    assert.equal(new Set(fast).size, count, 'no center twice');
  }
  // few candidates: the continuation stops at τ, what it picked is still the plain one's, the rest comes from the composable order
  const stats = {} as TailStats;
  const short = await continueGreedy({ data: z, n, dim }, sel, 20, { nearest: bruteNearest(z, n, dim), candidatesPerCenter: 1, stats });
  assert.ok(stats.continued < 20 && stats.candidates === 20, JSON.stringify(stats));
  const plain = continueGreedyPlain({ data: z, n, dim }, sel, 20);
  assert.deepEqual(short.subarray(0, count - 20 + stats.continued), plain.subarray(0, count - 20 + stats.continued));
  assert.equal(new Set(short).size, count, 'no center twice');
  assert.ok(short.every((r) => sel.includes(r) || plain.includes(r)));
});

test('tail: covers better than the composable coreset alone and is deterministic', async () => {
  const n = 4000,
    dim = 8,
    z = blobs(n, dim, 5),
    count = 100;
  const sel = composable(z, n, dim, count, 2);
  const tailed = await continueGreedy({ data: z, n, dim }, sel, 10, { nearest: bruteNearest(z, n, dim) });
  assert.deepEqual(await continueGreedy({ data: z, n, dim }, sel, 10, { nearest: bruteNearest(z, n, dim) }), tailed);
  const before = coverage(z, n, dim, sel),
    after = coverage(z, n, dim, tailed);
  // the continued greedy's last pick was the farthest row: the radius is at most its δ, and below the composable one's
  assert.ok(after < before, `tail ${after} vs composable ${before}`);
  assert.deepEqual(await continueGreedy({ data: z, n, dim }, sel, 0, { nearest: bruteNearest(z, n, dim) }), sel);
});

test('searchNearest: each row at its nearest center (float32 distances), from memory and from the spill file, as brute force', async () => {
  const n = 2500,
    dim = 16,
    z = blobs(n, dim, 7);
  const centers = Int32Array.from([3, 77, 1200, 2499, 640]);
  const want = await bruteNearest(z, n, dim)(centers);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'patchcore-tail-')), 'z.f32');
  try {
    fs.writeFileSync(file, new Uint8Array(z.buffer));
    for (const got of [await searchNearest({ data: z, n, dim })(centers), await searchNearest({ data: file, n, dim })(centers)])
      for (let i = 0; i < n; i++) assert.ok(Math.abs(got[i] - want[i]) <= 1e-6 * (1 + want[i]), `row ${i}: ${got[i]} vs ${want[i]}`);
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
});
