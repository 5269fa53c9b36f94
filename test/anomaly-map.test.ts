import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PatchScores, ScoreMap } from '../src/types.js';
import { anomalyMap, gaussianBlur, resizeBilinear } from '../src/scoring/anomaly-map.js';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `[${i}] ${a[i]} vs ${b[i]}`);
};

test('bilinear 2×2 -> 4×4 equals PyTorch F.interpolate(align_corners=False)', () => {
  const out = resizeBilinear({ width: 2, height: 2, data: Float32Array.of(1, 2, 3, 4) }, 4, 4);
  close(out.data, [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4], 1e-7);
  // Same size is the identity; non-square resizes keep a constant map constant.
  const m: ScoreMap = { width: 3, height: 2, data: Float32Array.of(5, 1, 2, 7, 3, 9) };
  close(resizeBilinear(m, 3, 2).data, m.data, 0);
  close(resizeBilinear({ width: 3, height: 2, data: new Float32Array(6).fill(2) }, 7, 5).data, new Float32Array(35).fill(2), 1e-6);
});

test('Gaussian matches scipy.ndimage.gaussian_filter1d (documented values), incl. radius 16 on 5 samples', () => {
  const row: ScoreMap = { width: 5, height: 1, data: Float32Array.of(1, 2, 3, 4, 5) };
  // scipy docs: gaussian_filter1d([1., 2., 3., 4., 5.], 1) and (…, 4)
  close(gaussianBlur(row, 1).data, [1.42704095, 2.06782203, 3, 3.93217797, 4.57295905], 1e-6);
  close(gaussianBlur(row, 4).data, [2.91948343, 2.95023502, 3, 3.04976498, 3.08051657], 1e-6);
  // The same along the column axis.
  close(gaussianBlur({ width: 1, height: 5, data: row.data }, 1).data, [1.42704095, 2.06782203, 3, 3.93217797, 4.57295905], 1e-6);
});

/** Index into d c b a | a b c d | d c b a …, by repeated mirroring (independent of the code under test). */
function mirror(i: number, n: number): number {
  while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - 1 - i;
  return i;
}

test('separable blur equals a direct 2-D convolution with reflect borders', () => {
  const w = 9;
  const h = 6;
  const data = Float32Array.from({ length: w * h }, (_, i) => Math.abs(Math.sin(i * 12.9898) * 43758.5453) % 1);
  for (const sigma of [1, 2.5]) {
    const r = Math.floor(4 * sigma + 0.5); // 2.5 -> radius 10, wider than the map: repeated mirroring
    let norm = 0;
    for (let i = -r; i <= r; i++) for (let j = -r; j <= r; j++) norm += Math.exp(-(i * i + j * j) / (2 * sigma * sigma));
    const ref = new Float64Array(w * h);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        let s = 0;
        for (let i = -r; i <= r; i++)
          for (let j = -r; j <= r; j++) s += Math.exp(-(i * i + j * j) / (2 * sigma * sigma)) * data[mirror(y + i, h) * w + mirror(x + j, w)];
        ref[y * w + x] = s / norm;
      }
    close(gaussianBlur({ width: w, height: h, data }, sigma).data, ref, 1e-5);
  }
});

test('Gaussian preserves a constant map and its sum', () => {
  const c = new Float32Array(30 * 20).fill(3.7);
  const out = gaussianBlur({ width: 30, height: 20, data: c }, 4).data;
  close(out, c, 1e-5);
  const sum = out.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - 3.7 * 600) < 1e-3, `sum ${sum}`);
});

test('the map of a single hot patch peaks inside that patch footprint', () => {
  const scores = new Float32Array(28 * 28);
  scores[10 * 28 + 17] = 1; // row 10, col 17 -> pixels rows 80..87, cols 136..143
  const ps: PatchScores = { gridH: 28, gridW: 28, scores, nearest: new Int32Array(784), nearestDist: new Float32Array(784) };
  const map = anomalyMap(ps, 224, 224);
  assert.equal(map.width, 224);
  assert.equal(map.height, 224);
  let best = 0;
  for (let i = 1; i < map.data.length; i++) if (map.data[i] > map.data[best]) best = i;
  const [y, x] = [Math.floor(best / 224), best % 224];
  assert.ok(y >= 80 && y <= 87 && x >= 136 && x <= 143, `argmax at (${y}, ${x})`);
  assert.ok(map.data[best] > 0 && map.data[best] < 1, 'blurred peak is lower than the patch score');
});

test('stride-aligned map: cells at their true spacing, centred; the same as stretching when out = cells × stride', () => {
  const grid = (w: number, h: number, hot: number): PatchScores => {
    const scores = new Float32Array(w * h);
    scores[hot] = 1;
    return { gridW: w, gridH: h, scores, nearest: new Int32Array(w * h), nearestDist: scores };
  };
  // 28 cells × 8 px = 224: identical to the stretched map
  const g = grid(28, 28, 5 * 28 + 9);
  close(anomalyMap(g, 224, 224, 4, 8).data, anomalyMap(g, 224, 224, 4).data, 1e-6);
  // InceptionV3-like: 25 cells for 224 px (unpadded convolutions). Cell 20 of a 25-cell row sits at
  // off + 20·8 = 16 + 160 = 176 (pixel 175.5 centre), off = (224 − 8·24)/2; stretched it sits at 20.5·8.96 = 183.7
  const row = grid(25, 1, 20);
  const peak = (m: ScoreMap) => m.data.indexOf(Math.max(...m.data));
  assert.equal(peak(anomalyMap(row, 224, 1, 0, 8)), 175);
  assert.equal(peak(anomalyMap(row, 224, 1, 0)), 183);
});
