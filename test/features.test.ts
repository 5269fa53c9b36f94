// The fused aggregate() against the plain composition it replaces: avgPool3x3 of both maps,
// bilinear upsampling of the deep one, concatenation per patch (bit for bit).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FeatureMaps, Tensor } from '../src/types.js';
import { aggregate, avgPool3x3, resizeBilinearCHW } from '../src/features/aggregate.js';

function random(dims: number[], seed: number): Tensor {
  let s = seed >>> 0;
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = (s / 2 ** 32) * 4 - 1;
  }
  return { dims, data };
}

/** The straightforward version: pooled planes, upsampled deep planes, then one row per patch. */
function reference(maps: FeatureMaps): Float32Array {
  const a = avgPool3x3(maps.shallow);
  const [, c1, h, w] = a.dims;
  const b = resizeBilinearCHW(avgPool3x3(maps.deep), h, w);
  const c2 = b.dims[1];
  const rows = new Float32Array(h * w * (c1 + c2));
  for (let p = 0; p < h * w; p++) {
    for (let c = 0; c < c1; c++) rows[p * (c1 + c2) + c] = a.data[c * h * w + p];
    for (let c = 0; c < c2; c++) rows[p * (c1 + c2) + c1 + c] = b.data[c * h * w + p];
  }
  return rows;
}

const cases: [string, number, number, number, number, number, number][] = [
  // name, c1, h, w, c2, h2, w2
  ['inception-like 25×25 / 12×12', 24, 25, 25, 40, 12, 12],
  ['resnet-like 28×28 / 14×14', 16, 28, 28, 32, 14, 14],
  ['non-square, wider than the 16-patch tile', 5, 7, 37, 3, 4, 19],
  ['deep already on the shallow grid', 6, 9, 11, 4, 9, 11],
  ['tiny maps', 3, 1, 2, 2, 1, 1],
  ['single pixel', 2, 1, 1, 3, 1, 1],
];

for (const [name, c1, h, w, c2, h2, w2] of cases) {
  test(`aggregate equals pool + upsample + transpose bit for bit: ${name}`, () => {
    const maps: FeatureMaps = { shallow: random([1, c1, h, w], c1 * 31 + h), deep: random([1, c2, h2, w2], c2 * 17 + w2) };
    const f = aggregate(maps);
    assert.deepEqual([f.gridH, f.gridW, f.count, f.dim], [h, w, h * w, c1 + c2]);
    assert.deepEqual(f.data, reference(maps));
  });
}

test('aggregate with a dim reduction pools each reference row (adaptive average)', () => {
  const maps: FeatureMaps = { shallow: random([1, 10, 6, 5], 1), deep: random([1, 14, 3, 3], 2) };
  const ref = reference(maps);
  const L = 24;
  const dim = 7;
  const f = aggregate(maps, { dim });
  assert.equal(f.dim, dim);
  for (let p = 0; p < 30; p++)
    for (let i = 0; i < dim; i++) {
      const [s, e] = [Math.floor((i * L) / dim), Math.ceil(((i + 1) * L) / dim)];
      let sum = 0;
      for (let j = s; j < e; j++) sum += ref[p * L + j];
      assert.equal(f.data[p * dim + i], Math.fround(sum / (e - s)));
    }
  // a dim at or above the full width keeps everything
  assert.deepEqual(aggregate(maps, { dim: 24 }).data, ref);
});

test('aggregate results do not share storage between calls (scratch buffers are internal)', () => {
  const m1: FeatureMaps = { shallow: random([1, 4, 5, 5], 3), deep: random([1, 6, 3, 3], 4) };
  const m2: FeatureMaps = { shallow: random([1, 4, 5, 5], 5), deep: random([1, 6, 3, 3], 6) };
  const a = aggregate(m1);
  const copy = Float32Array.from(a.data);
  aggregate(m2);
  aggregate(m1, { dim: 3 });
  assert.deepEqual(a.data, copy);
});
