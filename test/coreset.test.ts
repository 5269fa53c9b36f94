import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/util/rng.js';
import { coverage } from './coverage.js';
import { pickStarts, plainGreedyCoreset } from '../src/memory/coreset/plain.js';
import { greedyCoreset } from '../src/memory/coreset/exact/greedy.js';

/** Gaussian blobs of varying spread, with some exact duplicate rows. */
function clustered(n: number, dim: number, seed: number, clusters: number, dupEvery = 0): Float32Array {
  const rng = new Rng(seed);
  const centers = Array.from({ length: clusters }, () => Array.from({ length: dim }, () => rng.normal() * 5));
  const spread = Array.from({ length: clusters }, () => 0.05 + rng.next() * 2);
  const z = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    if (dupEvery > 0 && i > 0 && i % dupEvery === 0) {
      const src = rng.int(i);
      z.copyWithin(i * dim, src * dim, (src + 1) * dim);
      continue;
    }
    const k = rng.int(clusters);
    for (let d = 0; d < dim; d++) z[i * dim + d] = centers[k][d] + spread[k] * rng.normal();
  }
  return z;
}

const cases = [
  { name: 'gaussian', n: 2000, dim: 16, clusters: 1, dup: 0, count: 200 },
  { name: 'clustered', n: 3000, dim: 32, clusters: 12, dup: 0, count: 300 },
  { name: 'clustered + duplicates', n: 2500, dim: 24, clusters: 6, dup: 3, count: 400 },
  { name: 'tiny, count near n', n: 40, dim: 7, clusters: 3, dup: 2, count: 40 },
  { name: 'odd dim, 1 cluster, 1 center', n: 500, dim: 13, clusters: 1, dup: 0, count: 1 },
  { name: 'dim 3 (plain fallback)', n: 600, dim: 3, clusters: 4, dup: 0, count: 120 },
  { name: 'dim 5 (fewer than 16 axes)', n: 1200, dim: 5, clusters: 5, dup: 7, count: 240 },
  // 16 axes cannot capture 40 clusters in 64 dims: the residual-norm bound and exact kernel decide.
  { name: 'dim 64, many clusters (large residuals)', n: 3000, dim: 64, clusters: 40, dup: 5, count: 600 },
];

for (const [k, cs] of cases.entries()) {
  test(`fast coreset equals plain: ${cs.name}`, () => {
    const z = clustered(cs.n, cs.dim, 100 + k, cs.clusters, cs.dup);
    const starts = pickStarts(cs.n, 7 + k);
    const plain = plainGreedyCoreset({ data: z, n: cs.n, dim: cs.dim }, cs.count, starts);
    const fast = greedyCoreset({ data: z, n: cs.n, dim: cs.dim }, { count: cs.count, starts });
    assert.deepEqual(Array.from(fast), Array.from(plain));
  });
}

test('fast coreset on two threads equals plain, and the worker lets the process exit', () => {
  for (const [k, cs] of cases.entries()) {
    if (cs.count < 2) continue;
    const z = clustered(cs.n, cs.dim, 100 + k, cs.clusters, cs.dup);
    const starts = pickStarts(cs.n, 7 + k);
    const plain = plainGreedyCoreset({ data: z, n: cs.n, dim: cs.dim }, cs.count, starts);
    const stats = { threads: 0, distances: [] as number[], work: [] as number[] };
    const fast = greedyCoreset({ data: z, n: cs.n, dim: cs.dim }, { count: cs.count, starts, threads: 2, stats });
    assert.deepEqual(Array.from(fast), Array.from(plain), cs.name);
    if (cs.dim < 4) continue; // the plain fallback
    // both threads ran and did work on their own points
    assert.equal(stats.threads, 2, cs.name);
    assert.equal(stats.distances.length, 2, cs.name);
    assert.ok(stats.distances[0] > 0 && stats.distances[1] > 0, `${cs.name}: ${stats.distances}`);
  }
  const n = 50,
    dim = 8;
  const z = new Float32Array(n * dim).fill(1.5);
  assert.deepEqual(Array.from(greedyCoreset({ data: z, n, dim }, { count: 5, starts: pickStarts(n, 3), threads: 2 })), [0, 0, 0, 0, 0]);
});

test('progress reaches count on one and two threads', () => {
  const n = 1500,
    dim = 16,
    z = clustered(n, dim, 5, 4);
  for (const threads of [1, 2]) {
    const seen: number[] = [];
    greedyCoreset(
      { data: z, n, dim },
      {
        count: 150,
        starts: pickStarts(n, 2),
        onProgress: (d, t) => {
          assert.equal(t, 150);
          seen.push(d);
        },
        threads,
      },
    );
    assert.equal(seen.at(-1), 150);
    assert.ok(seen.every((d, i) => i === 0 || d > seen[i - 1]));
  }
});

test('all-identical points: ties go to the lowest index', () => {
  const n = 50,
    dim = 8;
  const z = new Float32Array(n * dim).fill(1.5);
  const starts = pickStarts(n, 3);
  const fast = greedyCoreset({ data: z, n, dim }, { count: 5, starts });
  assert.deepEqual(Array.from(fast), [0, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(plainGreedyCoreset({ data: z, n, dim }, 5, starts)), [0, 0, 0, 0, 0]);
});

test('coreset covers the set far better than random picks and shrinks with size', () => {
  const n = 3000,
    dim = 32;
  const z = clustered(n, dim, 42, 10);
  const starts = pickStarts(n, 1);
  const small = greedyCoreset({ data: z, n, dim }, { count: 30, starts });
  const big = greedyCoreset({ data: z, n, dim }, { count: 300, starts });
  const rnd = Int32Array.from(pickStarts(n, 9, 300));
  assert.ok(coverage(z, n, dim, big) < coverage(z, n, dim, small));
  assert.ok(coverage(z, n, dim, big) < 0.8 * coverage(z, n, dim, rnd));
  assert.equal(new Set(big).size, big.length, 'no index chosen twice while δ > 0');
});

test('pickStarts: distinct, seeded, capped at n', () => {
  const a = pickStarts(1000, 5),
    b = pickStarts(1000, 5),
    c = pickStarts(1000, 6);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.equal(new Set(a).size, 10);
  assert.equal(pickStarts(4, 1).length, 4);
});
