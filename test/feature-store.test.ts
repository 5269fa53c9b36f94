import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Rng } from '../src/util/rng.js';
import { UserError } from '../src/util/errors.js';
import type { PatchFeatures } from '../src/types.js';
import { FeatureStore } from '../src/memory/feature-store.js';
import { Projector, randomProjection } from '../src/memory/projection.js';
import type { SpillFiles } from '../src/memory/spill.js';
import { ownSpillFolders } from './spill-helpers.js';

function batch(rng: Rng, count: number, dim: number): PatchFeatures {
  return { gridH: 1, gridW: count, dim, count, data: Float32Array.from({ length: count * dim }, () => rng.normal()) };
}

function spillOf(s: FeatureStore): SpillFiles | undefined {
  return (s as unknown as { spill?: SpillFiles }).spill;
}

for (const inMemory of [false, true]) {
  test(`rows() returns the appended rows in the requested order (${inMemory ? 'memory' : 'temp file'})`, async () => {
    const rng = new Rng(3),
      dim = 20;
    const batches = [batch(rng, 50, dim), batch(rng, 1, dim), batch(rng, 1500, dim)];
    const store = new FeatureStore({ inMemory, seed: 1 });
    for (const b of batches) await store.append(b);
    const all = new Float32Array(1551 * dim);
    let off = 0;
    for (const b of batches) {
      all.set(b.data, off);
      off += b.data.length;
    }
    assert.equal(store.count, 1551);
    assert.equal(store.dim, dim);
    const idx = Int32Array.from([1550, 0, 51, 50, 50, 7, 1200, 1201, 1202, 3]);
    const got = store.rows(idx);
    for (const [k, r] of idx.entries()) assert.deepEqual(got.subarray(k * dim, (k + 1) * dim), all.subarray(r * dim, (r + 1) * dim));
    // contiguous range longer than one read run
    const range = Int32Array.from({ length: 1551 }, (_, i) => i);
    assert.deepEqual(store.rows(range), all);
    assert.throws(() => store.rows(Int32Array.from([1551])), RangeError);
    store.close();
  });
}

test("overlapped writes (fit's feature stage): the same rows once flushed; rows() before flush() throws; close() with a write in flight is safe", async () => {
  const rng = new Rng(4),
    dim = 64;
  const batches = Array.from({ length: 12 }, () => batch(rng, 700, dim));
  const store = new FeatureStore({ seed: 1 });
  for (const b of batches) await store.append(b, { overlap: true });
  assert.throws(() => store.rows(Int32Array.of(0)), /flush\(\) first/);
  await store.flush();
  const all = new Float32Array(12 * 700 * dim);
  batches.forEach((b, i) => all.set(b.data, i * 700 * dim));
  assert.deepEqual(store.rows(Int32Array.from({ length: 12 * 700 }, (_, i) => i)), all);
  store.close();
  const early = new FeatureStore({ seed: 1 });
  await early.append(batch(rng, 5000, dim), { overlap: true });
  early.close(); // the write may still be in flight: no unhandled rejection, no file left
  assert.equal(spillOf(early), undefined);
  await new Promise((r) => setTimeout(r, 50));
});

test('projection is computed on append, seeded, and preserves distances roughly', async () => {
  const rng = new Rng(5),
    dim = 512;
  const b = batch(rng, 40, dim);
  const store = new FeatureStore({ inMemory: true, seed: 9 });
  await store.append(b);
  const expect = new Projector(dim, 128, 9).project(b.data, 40);
  // ONNX Runtime's float32 MatMul vs the float64-accumulating JS reference
  const got = store.projected;
  assert.equal(got.length, expect.length);
  for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - expect[i]) <= 1e-4 * (1 + Math.abs(expect[i])), `z[${i}] ${got[i]} vs ${expect[i]}`);
  assert.notDeepEqual(new Projector(dim, 128, 10).project(b.data, 40), expect);
  const R = randomProjection(dim, 128, 9);
  assert.ok(R.every((v) => Math.abs(v) <= 1 / Math.sqrt(dim)));
  // uniform(±1/√D) has variance 1/(3D): ‖Rᵀx‖² ≈ 128/(3D)·‖x‖², a fixed scale on all pairs
  const scale = Math.sqrt(128 / (3 * dim));
  for (let i = 1; i < 40; i++) {
    let a = 0,
      p = 0;
    for (let d = 0; d < dim; d++) a += (b.data[d] - b.data[i * dim + d]) ** 2;
    for (let d = 0; d < 128; d++) p += (expect[d] - expect[i * 128 + d]) ** 2;
    const ratio = Math.sqrt(p) / (scale * Math.sqrt(a));
    assert.ok(ratio > 0.7 && ratio < 1.3, `distance ratio ${ratio}`);
  }
  store.close();
});

test('the temp file is gone from disk once open (Linux: only its descriptor holds it) and readable until close(); bad input is a UserError', async () => {
  const rng = new Rng(1);
  const store = new FeatureStore();
  const b = batch(rng, 10, 8);
  await store.append(b);
  const linux = process.platform === 'linux';
  assert.equal(spillOf(store)!.unlinked, linux);
  assert.equal(ownSpillFolders().length, linux ? 0 : 1);
  assert.deepEqual(store.rows(Int32Array.from({ length: 10 }, (_, i) => i)), b.data);
  await assert.rejects(() => store.append(batch(rng, 10, 9)), UserError);
  const bad = batch(rng, 2, 8);
  bad.data[3] = NaN;
  await assert.rejects(() => store.append(bad), UserError);
  store.close();
  store.close();
  assert.deepEqual(ownSpillFolders(), []);
});

test('projections spill to disk above the reserved bound: the same rows, read in part or whole', async () => {
  const rng = new Rng(8),
    dim = 40;
  const batches = [batch(rng, 300, dim), batch(rng, 1200, dim), batch(rng, 7, dim)];
  const mem = new FeatureStore({ seed: 4 });
  const disk = new FeatureStore({ seed: 4, spillProjectionAbove: 1000 });
  mem.reserve(1507);
  disk.reserve(1507);
  for (const b of batches) {
    await mem.append(b);
    await disk.append(b);
  }
  assert.equal(mem.projectionSpilled, false);
  assert.equal(disk.projectionSpilled, true);
  assert.equal(typeof disk.projectionSource, 'string');
  assert.ok(fs.statSync(disk.projectionSource as string).size === 1507 * 128 * 4);
  const idx = Int32Array.from([1506, 0, 299, 300, 300, 5, 1100, 1101, 3]);
  assert.deepEqual(disk.projectedRows(idx), mem.projectedRows(idx));
  assert.throws(() => disk.projectedRows([1507]), RangeError);
  assert.deepEqual(disk.projected, mem.projected); // read whole (the exact greedy)
  assert.deepEqual(disk.projectedRows(idx), mem.projectedRows(idx)); // and from that copy
  disk.close();
  mem.close();
  assert.deepEqual(ownSpillFolders(), [], 'both temp files removed');
});

test('a non-finite feature value anywhere is refused, and the store keeps what it had', async () => {
  const rng = new Rng(13),
    dim = 300;
  for (const bad of [NaN, Infinity, -Infinity]) {
    const store = new FeatureStore({ inMemory: true, seed: 2 });
    await store.append(batch(rng, 20, dim));
    const b = batch(rng, 30, dim);
    b.data[17 * dim + rng.int(dim)] = bad;
    await assert.rejects(store.append(b), (e: Error) => e instanceof UserError && /non-finite feature/.test(e.message), String(bad));
    assert.equal(store.count, 20);
    store.close();
  }
});
