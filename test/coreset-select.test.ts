import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/util/rng.js';
import { UserError } from '../src/util/errors.js';
import { FeatureStore } from '../src/memory/feature-store.js';
import { selectCoreset, type CoresetOptions } from '../src/memory/select.js';
import { bankFromStore } from '../src/model/bank.js';
import { DEFAULT_SCORING } from '../src/model/config.js';
import { pickStarts, plainGreedyCoreset } from '../src/memory/coreset/plain.js';
import { coverage } from './coverage.js';

const N = 1200,
  D = 256;

/** Clustered features with a few hundred directions of variation. */
function features(seed: number): Float32Array {
  const rng = new Rng(seed);
  const centers = Array.from({ length: 8 }, () => Float32Array.from({ length: D }, () => rng.normal() * 3));
  return Float32Array.from({ length: N * D }, (_, k) => centers[Math.floor(k / D) % 8][k % D] + rng.normal());
}

async function storeOf(data: Float32Array, seed: number): Promise<FeatureStore> {
  const s = new FeatureStore({ seed, inMemory: true });
  for (let i = 0; i < N; i += 300) await s.append({ gridH: 1, gridW: 300, dim: D, count: 300, data: data.subarray(i * D, (i + 300) * D) });
  return s;
}

test('ratio outside (0, 1] is a UserError', async () => {
  const store = await storeOf(features(1), 1);
  for (const ratio of [0, -0.1, 1.5, NaN])
    await assert.rejects(
      selectCoreset(store, { ratio, seed: 0 }),
      (e: unknown) => e instanceof UserError && e.message === `Expected a ratio in (0, 1] for ratio but received ${ratio}`,
    );
  assert.equal((await selectCoreset(store, { ratio: 1e-6, seed: 0 })).indices.length, 1, 'at least one center');
  assert.equal((await selectCoreset(store, { ratio: 1, seed: 0 })).indices.length, N);
});

/** The memory bank as fit builds it (model/bank.ts), without its search index. */
async function bankOf(store: FeatureStore, o: Pick<CoresetOptions, 'ratio' | 'seed'>) {
  const fb = await bankFromStore(store, { ...o, scoring: DEFAULT_SCORING });
  await fb.nn.release();
  return fb.bank;
}

test('same seed gives the same bank; another seed gives another', async () => {
  const data = features(2);
  const a = await bankOf(await storeOf(data, 4), { ratio: 0.1, seed: 4 });
  const b = await bankOf(await storeOf(data, 4), { ratio: 0.1, seed: 4 });
  const c = await bankOf(await storeOf(data, 4), { ratio: 0.1, seed: 5 });
  assert.equal(a.size, 120);
  assert.equal(a.dim, D);
  assert.deepEqual(a.data, b.data);
  assert.notDeepEqual(a.data, c.data);
});

test('bank rows are the original features of the selected patches, with progress reported', async () => {
  const data = features(3);
  const store = await storeOf(data, 1);
  const seen: number[] = [];
  const idx = (
    await selectCoreset(store, {
      ratio: 0.05,
      seed: 1,
      onProgress: (d, t) => {
        assert.equal(t, 60);
        seen.push(d);
      },
    })
  ).indices;
  assert.equal(seen.at(-1), 60);
  const bank = await bankOf(store, { ratio: 0.05, seed: 1 });
  for (const [k, r] of idx.entries()) assert.deepEqual(bank.data.subarray(k * D, (k + 1) * D), data.subarray(r * D, (r + 1) * D));
});

test('coverage: equals the plain run in projected space, near a full-dimension greedy run', async () => {
  const data = features(4);
  const store = await storeOf(data, 2);
  const z = store.projected;
  const idx = (await selectCoreset(store, { ratio: 0.1, seed: 2 })).indices;
  const starts = pickStarts(N, 2);
  const plain = plainGreedyCoreset({ data: z, n: N, dim: 128 }, idx.length, starts);
  assert.equal(coverage(z, N, 128, idx), coverage(z, N, 128, plain));
  const full = plainGreedyCoreset({ data, n: N, dim: D }, idx.length, starts); // no projection
  const ratio = coverage(data, N, D, idx) / coverage(data, N, D, full);
  assert.ok(ratio > 0.7 && ratio < 1.3, `original-space coverage ratio ${ratio}`);
});

test('the store keeps its projections in shared memory, and ORT searches still take them', async () => {
  const { PairwiseKnn } = await import('../src/scoring/pairwise-knn.js');
  const store = await storeOf(features(5), 3);
  assert.ok(store.projected.buffer instanceof SharedArrayBuffer, 'shared: the coreset thread reads it without a copy');
  const knn = await PairwiseKnn.create(128);
  const q = store.projected.subarray(0, 10 * 128),
    b = store.projected.subarray(100 * 128, 300 * 128);
  const shared = await knn.search(q, 10, b, 200, 3);
  const plain = await knn.search(q.slice(), 10, b.slice(), 200, 3);
  assert.deepEqual(shared, plain);
  await knn.release();
});

test('a store whose projections spilled to disk selects the same banks, composable and exact, as one that kept them', async () => {
  const data = features(6);
  const mem = await storeOf(data, 5);
  const disk = new FeatureStore({ seed: 5, spillProjectionAbove: 500 });
  disk.reserve(N);
  for (let i = 0; i < N; i += 300) await disk.append({ gridH: 1, gridW: 300, dim: D, count: 300, data: data.subarray(i * D, (i + 300) * D) });
  assert.equal(disk.projectionSpilled, true);
  const composable = { chunkRows: 200, union: 2, threads: 2 };
  for (const seed of [1, 2]) // the second run reuses the block stage
    assert.deepEqual(
      await selectCoreset(disk, { ratio: 0.05, seed, method: 'composable', composable }),
      await selectCoreset(mem, { ratio: 0.05, seed, method: 'composable', composable }),
    );
  assert.deepEqual(await selectCoreset(disk, { ratio: 0.05, seed: 3, method: 'exact' }), await selectCoreset(mem, { ratio: 0.05, seed: 3, method: 'exact' }));
  disk.close();
});
