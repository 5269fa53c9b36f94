// A small deterministic synthetic inspection dataset (MVTec layout) for the demo and the tests:
// a dark metal washer on a light background with dust specks; defects are scratches, cracks and
// missing pieces, each with a ground-truth mask.
import * as path from 'node:path';
import sharp from 'sharp';
import type { RgbImage } from '../types.js';
import { Rng } from '../util/rng.js';
import { writeFileAtomic } from '../util/atomic.js';
import { encodePng } from '../image/load.js';

export type DefectKind = 'good' | 'scratch' | 'crack' | 'missing';
export const DEFECT_KINDS: DefectKind[] = ['scratch', 'crack', 'missing'];

export interface SyntheticSample {
  image: RgbImage;
  mask: Uint8Array; // 1 = defect
}

/** One sample; the same (seed, kind, size) always gives the same pixels. */
export function syntheticSample(seed: number, kind: DefectKind, size = 256): SyntheticSample {
  const rng = new Rng(seed);
  const n = size * size;
  const lum = new Float32Array(n);
  const mask = new Uint8Array(n);
  const cx = size / 2 + (rng.next() - 0.5) * size * 0.04;
  const cy = size / 2 + (rng.next() - 0.5) * size * 0.04;
  const rOut = size * 0.3;
  const rIn = size * 0.12;
  const bg = 205 + rng.next() * 10;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const r = Math.hypot(x - cx, y - cy);
      const i = y * size + x;
      if (r < rOut && r > rIn) {
        // brushed-metal texture: concentric rings plus noise
        lum[i] = 105 + 12 * Math.sin(r * 0.9) + rng.normal() * 4;
      } else lum[i] = bg + rng.normal() * 2;
    }
  }
  dust(lum, size, rng, cx, cy, rOut);
  const onObject = (x: number, y: number) => {
    const r = Math.hypot(x - cx, y - cy);
    return r < rOut - 2 && r > rIn + 2;
  };
  const ring = { cx, cy, r: (rOut + rIn) / 2 };
  if (kind === 'scratch') line(lum, mask, size, rng, onObject, ring, 190, 2, false);
  if (kind === 'crack') line(lum, mask, size, rng, onObject, ring, 10, 2, true);
  if (kind === 'missing') {
    const a = rng.next() * 2 * Math.PI;
    const px = cx + Math.cos(a) * rOut * 0.85;
    const py = cy + Math.sin(a) * rOut * 0.85;
    const rr = size * 0.07;
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const i = y * size + x;
        const r = Math.hypot(x - cx, y - cy);
        if (Math.hypot(x - px, y - py) < rr && r < rOut && r > rIn) {
          lum[i] = bg + rng.normal() * 2;
          mask[i] = 1;
        }
      }
  }
  const data = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const v = Math.max(0, Math.min(255, Math.round(lum[i])));
    data[3 * i] = v;
    data[3 * i + 1] = v;
    data[3 * i + 2] = Math.max(0, Math.min(255, v - 4)); // slightly warm light
  }
  return { image: { width: size, height: size, data }, mask };
}

/** Dust: small dark specks on the background only (the report's "background anomaly"). */
function dust(lum: Float32Array, size: number, rng: Rng, cx: number, cy: number, rOut: number): void {
  const count = 6 + rng.int(8);
  for (let k = 0; k < count; k++) {
    const x0 = rng.int(size);
    const y0 = rng.int(size);
    if (Math.hypot(x0 - cx, y0 - cy) < rOut + 6) continue;
    const rad = 1 + rng.next() * 1.5;
    for (let y = Math.floor(y0 - rad); y <= y0 + rad; y++)
      for (let x = Math.floor(x0 - rad); x <= x0 + rad; x++)
        if (x >= 0 && y >= 0 && x < size && y < size && Math.hypot(x - x0, y - y0) <= rad) lum[y * size + x] = 110 + rng.next() * 40;
  }
}

/**
 * A straight (scratch) or jagged (crack) line on the object: it starts mid-ring and runs roughly
 * along the ring, so it stays on the part; pixels off the part are skipped, not drawn.
 */
function line(
  lum: Float32Array,
  mask: Uint8Array,
  size: number,
  rng: Rng,
  inside: (x: number, y: number) => boolean,
  ring: { cx: number; cy: number; r: number },
  value: number,
  width: number,
  jagged: boolean,
): void {
  const phi = rng.next() * 2 * Math.PI;
  let x = ring.cx + Math.cos(phi) * ring.r;
  let y = ring.cy + Math.sin(phi) * ring.r;
  let a = phi + Math.PI / 2 + (rng.next() - 0.5) * 0.8; // tangential ± 23°
  const len = size * (0.18 + rng.next() * 0.08);
  for (let t = 0; t < len; t += 0.5) {
    if (jagged && rng.next() < 0.08) a += (rng.next() - 0.5) * 1.2;
    x += Math.cos(a) * 0.5;
    y += Math.sin(a) * 0.5;
    for (let dy = -width; dy <= width; dy++)
      for (let dx = -width; dx <= width; dx++) {
        const xi = Math.round(x + dx);
        const yi = Math.round(y + dy);
        if (xi < 0 || yi < 0 || xi >= size || yi >= size || dx * dx + dy * dy > width * width || !inside(xi, yi)) continue;
        lum[yi * size + xi] = value;
        mask[yi * size + xi] = 1;
      }
  }
}

export interface SyntheticOptions {
  seed?: number;
  size?: number;
  train?: number;
  testGood?: number;
  testPerDefect?: number;
}

/** One image of the synthetic set: where it goes in the MVTec layout and how it is drawn. */
export interface SyntheticEntry {
  split: 'train' | 'test';
  kind: DefectKind;
  seed: number;
  /** File stem, e.g. '003'. */
  name: string;
}

/** The images of the synthetic set, in order (the demo's files and the web page's self-test). */
export function syntheticPlan(o: SyntheticOptions = {}): SyntheticEntry[] {
  const { seed = 0, train = 24, testGood = 10, testPerDefect = 5 } = o;
  const name = (i: number) => String(i).padStart(3, '0');
  const out: SyntheticEntry[] = [];
  for (let i = 0; i < train; i++) out.push({ split: 'train', kind: 'good', seed: seed * 100003 + i, name: name(i) });
  for (let i = 0; i < testGood; i++) out.push({ split: 'test', kind: 'good', seed: seed * 100003 + 1000 + i, name: name(i) });
  let s = 2000;
  for (const kind of DEFECT_KINDS) for (let i = 0; i < testPerDefect; i++) out.push({ split: 'test', kind, seed: seed * 100003 + s++, name: name(i) });
  return out;
}

/** Write the dataset in MVTec layout under `dir`; returns the folder. */
export async function writeSyntheticDataset(dir: string, o: SyntheticOptions = {}): Promise<string> {
  const size = o.size ?? 256;
  const jobs: Promise<void>[] = [];
  const put = (rel: string, bytes: Uint8Array) => jobs.push(writeFileAtomic(path.join(dir, rel), bytes));
  for (const e of syntheticPlan(o)) {
    const sample = syntheticSample(e.seed, e.kind, size);
    put(`${e.split}/${e.kind}/${e.name}.png`, await encodePng(sample.image));
    if (e.kind !== 'good') put(`ground_truth/${e.kind}/${e.name}_mask.png`, await encodeMask(sample.mask, size, size));
  }
  await Promise.all(jobs);
  return dir;
}

export async function encodeMask(mask: Uint8Array, width: number, height: number): Promise<Buffer> {
  const px = Buffer.alloc(mask.length);
  for (let i = 0; i < mask.length; i++) px[i] = mask[i] ? 255 : 0;
  return sharp(px, { raw: { width, height, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
}
