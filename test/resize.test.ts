// The one resize both hosts use (src/image/resize.ts) against Pillow's own output, bit for bit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { resizeBilinear, resizeBilinearPlain } from '../src/image/resize.js';
import { Rng } from '../src/util/rng.js';
import type { RgbImage } from '../src/types.js';
import { REPO } from './helpers.js';

const REF = JSON.parse(readFileSync(path.join(REPO, 'test', 'reference', 'pillow-resize.json'), 'utf8')) as {
  cases: { in: [number, number]; out: [number, number]; sha256: string; rgb?: string }[];
};

/** test/reference/pillow_resize.py's formula image. */
function source(w: number, h: number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = (x * 37 + y * 91 + c * 53 + ((x * y) % 17) * 11 + (x ^ y) * 3) % 256;
  return { width: w, height: h, data };
}

test('resizeBilinear equals Pillow BILINEAR (torchvision Resize) bit for bit: shrink, enlarge, one axis, mixed', () => {
  assert.ok(REF.cases.length >= 10);
  for (const c of REF.cases) {
    const out = resizeBilinear(source(...c.in), ...c.out);
    const label = `${c.in.join('x')} -> ${c.out.join('x')}`;
    if (c.rgb) {
      const ref = Buffer.from(c.rgb, 'base64');
      let diff = 0;
      for (let i = 0; i < ref.length; i++) diff = Math.max(diff, Math.abs(ref[i] - out.data[i]));
      assert.equal(diff, 0, `${label}: max difference ${diff} levels`);
    }
    assert.equal(createHash('sha256').update(out.data).digest('hex'), c.sha256, label);
    assert.deepEqual(resizeBilinearPlain(source(...c.in), ...c.out).data, out.data, `${label}: the plain loop`);
  }
});

test('the fast passes equal the plain loop on random images and sizes', () => {
  const rng = new Rng(5);
  for (let t = 0; t < 40; t++) {
    const w = 1 + rng.int(60),
      h = 1 + rng.int(60);
    const img = { width: w, height: h, data: Uint8Array.from({ length: w * h * 3 }, () => rng.int(256)) };
    const [ow, oh] = [1 + rng.int(90), 1 + rng.int(90)];
    assert.deepEqual(resizeBilinear(img, ow, oh).data, resizeBilinearPlain(img, ow, oh).data, `${w}x${h} -> ${ow}x${oh}`);
  }
});

test('resizeBilinear: the same image back at its own size; flat colour stays flat', () => {
  const img = source(9, 6);
  assert.equal(resizeBilinear(img, 9, 6), img);
  const flat = { width: 10, height: 10, data: new Uint8Array(300).fill(200) };
  for (const [w, h] of [
    [3, 7],
    [25, 25],
    [10, 1],
  ])
    assert.ok(resizeBilinear(flat, w, h).data.every((v) => v === 200));
});
