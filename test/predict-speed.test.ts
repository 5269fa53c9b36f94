// The fast predict-path pieces against the plain versions: anomalyMap (banded G·U operator per axis)
// vs gaussianBlur ∘ resizeBilinear, and the row-reusing resizeBilinear vs per-pixel blending.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PatchScores, ScoreMap } from '../src/types.js';
import { anomalyMap, gaussianBlur, resizeBilinear } from '../src/scoring/anomaly-map.js';
import { toOriginal } from '../src/scoring/anomaly-map.js';
import { geometry } from '../src/image/preprocess.js';

function random(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 3;
  });
}

/** PyTorch align_corners=false, four corners per output pixel (the original formulation). */
function naiveResize(map: ScoreMap, width: number, height: number): Float32Array {
  const tap = (inSize: number, outSize: number, o: number) => {
    const src = Math.max(0, (o + 0.5) * (inSize / outSize) - 0.5);
    const i0 = Math.min(Math.floor(src), inSize - 1);
    return { i0, i1: Math.min(i0 + 1, inSize - 1), t: Math.fround(src - i0) };
  };
  const out = new Float32Array(width * height);
  for (let r = 0; r < height; r++) {
    const y = tap(map.height, height, r);
    for (let c = 0; c < width; c++) {
      const x = tap(map.width, width, c);
      const at = (yy: number, xx: number) => map.data[yy * map.width + xx];
      const top = at(y.i0, x.i0) * (1 - x.t) + at(y.i0, x.i1) * x.t;
      const bottom = at(y.i1, x.i0) * (1 - x.t) + at(y.i1, x.i1) * x.t;
      out[r * width + c] = top * (1 - y.t) + bottom * y.t;
    }
  }
  return out;
}

test('resizeBilinear equals per-pixel four-corner blending bit for bit (up, down, odd sizes)', () => {
  for (const [w, h, W, H] of [
    [28, 28, 224, 224],
    [256, 256, 512, 512],
    [25, 25, 224, 224],
    [7, 3, 5, 11],
    [300, 200, 120, 80],
    [1, 1, 4, 3],
    [3, 2, 3, 2],
  ]) {
    const m: ScoreMap = { width: w, height: h, data: random(w * h, w * 7 + h) };
    assert.deepEqual(resizeBilinear(m, W, H).data, naiveResize(m, W, H), `${w}×${h} -> ${W}×${H}`);
  }
});

test('anomalyMap equals gaussianBlur(resizeBilinear(grid)) up to float rounding', () => {
  const shapes: [number, number, number, number, number][] = [
    [28, 28, 224, 224, 4],
    [25, 25, 224, 224, 4],
    [25, 25, 224, 224, 0],
    [12, 9, 96, 72, 2.5],
    [40, 30, 320, 240, 4], // --crop none of a 4:3 image
    [3, 2, 24, 16, 4], // kernel far wider than the map: repeated mirroring
    [1, 1, 8, 8, 1],
    [5, 4, 5, 4, 1], // no upsampling
  ];
  for (const [gw, gh, W, H, sigma] of shapes) {
    const scores = random(gw * gh, gw * 13 + gh);
    const ps: PatchScores = { gridW: gw, gridH: gh, scores, nearest: new Int32Array(gw * gh), nearestDist: new Float32Array(gw * gh) };
    const got = anomalyMap(ps, W, H, sigma);
    const want = gaussianBlur(resizeBilinear({ width: gw, height: gh, data: scores }, W, H), sigma);
    assert.deepEqual([got.width, got.height], [W, H]);
    let worst = 0;
    for (let i = 0; i < want.data.length; i++) worst = Math.max(worst, Math.abs(got.data[i] - want.data[i]));
    assert.ok(worst <= 2e-6, `${gw}×${gh} -> ${W}×${H} σ${sigma}: max diff ${worst}`);
    // and a second call (cached operators) gives the same map
    assert.deepEqual(anomalyMap(ps, W, H, sigma).data, got.data);
  }
});

test('toOriginal: crop placed back, min outside, resized to the original size', () => {
  const g = geometry(512, 384, { resize: 256, crop: 224, mean: [0, 0, 0], std: [1, 1, 1] });
  const map: ScoreMap = { width: g.cropW, height: g.cropH, data: random(g.cropW * g.cropH, 9) };
  const full = new Float32Array(g.resizedW * g.resizedH).fill(Math.min(...map.data));
  for (let y = 0; y < g.cropH; y++) for (let x = 0; x < g.cropW; x++) full[(y + g.cropY) * g.resizedW + x + g.cropX] = map.data[y * g.cropW + x];
  const o = toOriginal(map, g);
  assert.deepEqual([o.width, o.height], [512, 384]);
  assert.deepEqual(o.data, naiveResize({ width: g.resizedW, height: g.resizedH, data: full }, 512, 384));
});
