// Study-only extractors for bench/studies/accuracy.ts: a two-backbone ensemble and memory-bank augmentation.
// They wrap the product's Extractor, so the images, preprocessing and aggregation are the product's.
import type { PatchFeatures, RgbImage } from '../../src/types.js';
import { Extractor, type Extracted } from '../../src/model/extract.js';
import type { FeatureStore } from '../../src/memory/index.js';
import { loadImage } from '../../src/image/load.js';
import { axis } from '../../src/features/aggregate.js';

/** Rows of `f` bilinearly resampled (align_corners=false) onto a gh×gw grid. */
export function resampleRows(f: PatchFeatures, gh: number, gw: number): Float32Array {
  if (f.gridH === gh && f.gridW === gw) return f.data;
  const c = f.dim;
  const ys = axis(f.gridH, gh);
  const xs = axis(f.gridW, gw);
  const out = new Float32Array(gh * gw * c);
  for (let y = 0; y < gh; y++)
    for (let x = 0; x < gw; x++) {
      const { i0: y0, i1: y1, f: fy } = ys[y];
      const { i0: x0, i1: x1, f: fx } = xs[x];
      const o = (y * gw + x) * c;
      const at = (yy: number, xx: number) => (yy * f.gridW + xx) * c;
      const [a, b, d, e] = [at(y0, x0), at(y0, x1), at(y1, x0), at(y1, x1)];
      for (let k = 0; k < c; k++)
        out[o + k] = (f.data[a + k] * (1 - fx) + f.data[b + k] * fx) * (1 - fy) + (f.data[d + k] * (1 - fx) + f.data[e + k] * fx) * fy;
    }
  return out;
}

function meanNorm(f: PatchFeatures): number {
  let s = 0;
  for (let p = 0; p < f.count; p++) {
    let q = 0;
    for (let k = 0; k < f.dim; k++) q += f.data[p * f.dim + k] ** 2;
    s += Math.sqrt(q);
  }
  return s / f.count;
}

/**
 * Two backbones' patch features concatenated per patch: the second's grid is resampled onto the
 * first's, and each part is divided by its mean patch norm (fixed on the first batch, i.e. on
 * training images), so neither backbone dominates the distances by scale alone.
 */
export class EnsembleExtractor extends Extractor {
  private scales: [number, number] | null = null;
  constructor(private readonly parts: [Extractor, Extractor]) {
    super(parts[0].backbone, parts[0].opts);
  }

  override async extractBatch(imgs: RgbImage[]): Promise<Extracted[]> {
    const a = await this.parts[0].extractBatch(imgs);
    const b = await this.parts[1].extractBatch(imgs);
    this.scales ??= [meanNorm(a[0].features), meanNorm(b[0].features)];
    const [sa, sb] = this.scales;
    return a.map((ea, i) => {
      const fa = ea.features;
      const fb = b[i].features;
      const rb = resampleRows(fb, fa.gridH, fa.gridW);
      const dim = fa.dim + fb.dim;
      const data = new Float32Array(fa.count * dim);
      for (let p = 0; p < fa.count; p++) {
        for (let k = 0; k < fa.dim; k++) data[p * dim + k] = fa.data[p * fa.dim + k] / sa;
        for (let k = 0; k < fb.dim; k++) data[p * dim + fa.dim + k] = rb[p * fb.dim + k] / sb;
      }
      return { ...ea, features: { gridH: fa.gridH, gridW: fa.gridW, dim, count: fa.count, data } };
    });
  }
}

export type Augment = 'none' | 'rot4' | 'flip4';

/** 90° clockwise rotation. */
function rot90(img: RgbImage): RgbImage {
  const { width: w, height: h } = img;
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const o = (x * h + (h - 1 - y)) * 3;
      const i = (y * w + x) * 3;
      out[o] = img.data[i];
      out[o + 1] = img.data[i + 1];
      out[o + 2] = img.data[i + 2];
    }
  return { width: h, height: w, data: out };
}

function hflip(img: RgbImage): RgbImage {
  const { width: w, height: h } = img;
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out.set(img.data.subarray((y * w + x) * 3, (y * w + x) * 3 + 3), (y * w + (w - 1 - x)) * 3);
  return { width: w, height: h, data: out };
}

/** The extra views of each training image (the identity view is the original). */
export function augmentViews(a: Augment): ((img: RgbImage) => RgbImage)[] {
  const r180 = (i: RgbImage) => rot90(rot90(i));
  if (a === 'rot4') return [rot90, r180, (i) => rot90(r180(i))];
  if (a === 'flip4') return [hflip, (i) => r180(hflip(i)), r180];
  return [];
}

/** An extractor whose training store also holds the augmented views of each image (test images are untouched). */
export function withAugment(ex: Extractor, a: Augment): Extractor {
  const views = augmentViews(a);
  if (!views.length) return ex;
  const aug = Object.create(ex) as Extractor;
  aug.storeFiles = async (files: string[], store: FeatureStore, onProgress?: (done: number, total: number) => void) => {
    const grids = await ex.storeFiles(files, store, onProgress);
    for (const f of files) {
      const img = await loadImage(f);
      for (const e of await ex.extractBatch(views.map((v) => v(img)))) {
        await store.append(e.features);
        grids.push({ gridH: e.features.gridH, gridW: e.features.gridW, geometry: e.geometry });
      }
    }
    return grids;
  };
  return aug;
}
