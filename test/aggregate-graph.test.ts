// The aggregation session fit and predict run (features/aggregate-graph.ts) against the plain JS
// aggregate (features/aggregate.ts, itself tested against pool + upsample + transpose).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FeatureMaps, Tensor } from '../src/types.js';
import { aggregate } from '../src/features/aggregate.js';
import { GraphAggregator } from '../src/features/aggregate-graph.js';
import { Rng } from '../src/util/rng.js';

function random(dims: number[], seed: number): Tensor {
  const rng = new Rng(seed);
  return { dims, data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rng.next() * 4 - 1) };
}

const maps = (c1: number, h: number, w: number, c2: number, h2: number, w2: number, seed: number): FeatureMaps => ({
  shallow: random([1, c1, h, w], seed),
  deep: random([1, c2, h2, w2], seed + 1),
});

function assertClose(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, what);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  assert.ok(worst < 2e-6, `${what}: differs by ${worst}`);
}

const cases: [string, number, number, number, number, number, number, number][] = [
  // name, c1, h, w, c2, h2, w2, dim
  ['inception-like non-square, deep map odd-sized (45×61 / 23×31)', 12, 45, 61, 20, 23, 31, 0],
  ['resnet-like 28×28 / 14×14', 16, 28, 28, 32, 14, 14, 0],
  ['deep already on the shallow grid', 6, 9, 11, 4, 9, 11, 0],
  ['single pixel', 2, 1, 1, 3, 1, 1, 0],
  ['with an adaptive-pooling dim reduction', 24, 10, 13, 40, 5, 7, 48],
];

for (const [name, c1, h, w, c2, h2, w2, dim] of cases) {
  test(`the aggregation session equals aggregate(): ${name}`, async () => {
    const m = maps(c1, h, w, c2, h2, w2, c1 * 7 + w);
    const agg = new GraphAggregator(dim);
    const f = await agg.aggregate(m);
    const ref = aggregate(m, { dim });
    assert.deepEqual([f.gridH, f.gridW, f.count, f.dim], [ref.gridH, ref.gridW, ref.count, ref.dim]);
    assertClose(f.data, ref.data, name);
    await agg.release();
  });
}

test('many grid shapes at once: evicted sessions finish their runs, and a released aggregator starts again', async () => {
  const agg = new GraphAggregator(0);
  const inputs = Array.from({ length: 12 }, (_, i) => maps(3, 4 + (i % 7), 5 + i, 2, 2 + (i % 3), 3 + (i >> 1), i));
  const out = await Promise.all(inputs.map((m) => agg.aggregate(m)));
  out.forEach((f, i) => assertClose(f.data, aggregate(inputs[i]).data, `shape ${i}`));
  assert.equal(agg.size, 4, 'the most recently used shapes are kept, the others released');
  await agg.release();
  assert.equal(agg.size, 0);
  assertClose((await agg.aggregate(inputs[0])).data, aggregate(inputs[0]).data, 'after release');
  await agg.release();
});
