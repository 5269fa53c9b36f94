// Resolving --foreground at fit: the PCA mask learned from the training patches, and `auto`'s
// decision whether the training images agree on a stable foreground.
import type { FeatureStore } from '../memory/index.js';
import type { BgRange } from '../image/background-range.js';
import { Rng, permutation } from '../util/rng.js';
import { otsu, principalAxis, project } from './pca.js';
import { MORPHOLOGY, cleanMask, pcaRaw, type ForegroundConfig, type ForegroundMode, type PcaMask } from './mask.js';

/** One training image's place in the store (rows are appended image by image). */
export interface GridOf {
  gridH: number;
  gridW: number;
}

/** Training patches the principal axis is computed from (a seeded sample; all when fewer). */
export const PCA_SAMPLE = 8192;
/** Training images whose masks `auto` compares. */
export const AGREEMENT_IMAGES = 40;

/**
 * `auto` turns the PCA mask on only when both hold:
 * - separation ≥ 0.75: the values along the axis split into two modes (one Gaussian gives 2/π ≈ 0.64,
 *   a texture's axis stays near it);
 * - agreement ≥ 0.6: the training images' masks overlap their majority mask (mean IoU), i.e. the
 *   object sits in one place, so a mask that drops part of it on one image is the exception;
 * and the foreground holds 5–90 % of the patches (else there is nothing to mask, or no object).
 */
export const AUTO_RULE = { separation: 0.75, agreement: 0.6, minShare: 0.05, maxShare: 0.9 } as const;

export interface ForegroundSetup {
  mode: ForegroundMode;
  seed?: number;
  /** The RGB range of `range` (the background's, or the report's 150–255). */
  range?: BgRange;
}

/** model.json's foreground entry for `mode`, or undefined for off. */
export function fitForeground(store: FeatureStore, images: GridOf[], o: ForegroundSetup): ForegroundConfig | undefined {
  if (o.mode === 'off') return undefined;
  if (o.mode === 'range') {
    if (!o.range) throw new Error('fitForeground: range mode without a range');
    const r = o.range;
    return { requested: 'range', mask: 'range', reason: `RGB-range mask: background is ${r.lo.join(',')}:${r.hi.join(',')}`, ...MORPHOLOGY, range: r };
  }
  const pca = learnPcaMask(store, images, o.seed ?? 0);
  const stats = `separation ${pca.separation.toFixed(3)} (>= ${AUTO_RULE.separation}), agreement ${pca.agreement === null ? 'n/a' : pca.agreement.toFixed(3)} (>= ${AUTO_RULE.agreement}), foreground ${(100 * pca.share).toFixed(1)} % of patches`;
  if (o.mode === 'pca') return { requested: 'pca', mask: 'pca', reason: `PCA mask (asked for): ${stats}`, ...MORPHOLOGY, pca };
  const stable =
    pca.separation >= AUTO_RULE.separation &&
    pca.agreement !== null &&
    pca.agreement >= AUTO_RULE.agreement &&
    pca.share >= AUTO_RULE.minShare &&
    pca.share <= AUTO_RULE.maxShare;
  return { requested: 'auto', mask: stable ? 'pca' : 'none', reason: `${stable ? 'PCA mask on' : 'off'}: ${stats}`, ...MORPHOLOGY, ...(stable ? { pca } : {}) };
}

/** The principal axis of a sample of training patches, its sign and Otsu cut, and how well the images agree on the mask. */
export function learnPcaMask(store: FeatureStore, images: GridOf[], seed: number): PcaMask {
  const D = store.dim;
  const take = Math.min(PCA_SAMPLE, store.count);
  const rows = Int32Array.from(permutation(store.count, new Rng(seed)).subarray(0, take)).sort();
  const sample = store.rows(rows);
  const pc = principalAxis(sample, take, D, { seed });
  const t = project(sample, take, D, pc.mean, pc.axis);
  // the object is the positive side: border patches are background, so they must average below the rest
  const border = borderRows(images, store.count);
  let sb = 0,
    nb = 0,
    si = 0,
    ni = 0;
  rows.forEach((r, i) => (border[r] ? ((sb += t[i]), nb++) : ((si += t[i]), ni++)));
  const flip = nb > 0 && ni > 0 && sb / nb > si / ni;
  if (flip) {
    pc.axis.forEach((v, d) => (pc.axis[d] = -v));
    t.forEach((v, i) => (t[i] = -v));
  }
  const split = otsu(t);
  // 8 significant digits keep model.json short; the offset is taken with the stored axis
  const axis = Array.from(pc.axis, (v) => Number(v.toPrecision(8)));
  let offset = 0;
  for (let d = 0; d < D; d++) offset += pc.mean[d] * axis[d];
  const mask = { axis, offset, cut: split.cut };
  let share = 0;
  for (const v of t) if (v > split.cut) share++;
  return { ...mask, separation: split.separation, share: share / take, agreement: agreement(store, images, mask, seed) };
}

/** 1 for store rows on their image's grid border. */
function borderRows(images: GridOf[], count: number): Uint8Array {
  const out = new Uint8Array(count);
  let at = 0;
  for (const { gridH: H, gridW: W } of images) {
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (y === 0 || x === 0 || y === H - 1 || x === W - 1) out[at + y * W + x] = 1;
    at += H * W;
  }
  return out;
}

/** Mean IoU of (a sample of) the images' cleaned masks against their majority mask; null when grids differ. */
function agreement(store: FeatureStore, images: GridOf[], m: Pick<PcaMask, 'axis' | 'offset' | 'cut'>, seed: number): number | null {
  const [g] = images;
  if (!g || images.some((i) => i.gridH !== g.gridH || i.gridW !== g.gridW)) return null;
  const n = g.gridH * g.gridW;
  const picked = Array.from(permutation(images.length, new Rng(seed + 1)).subarray(0, AGREEMENT_IMAGES)).sort((a, b) => a - b);
  const masks = picked.map((i) => {
    const data = store.rows(Int32Array.from({ length: n }, (_, j) => i * n + j));
    return cleanMask(pcaRaw({ gridH: g.gridH, gridW: g.gridW, dim: store.dim, count: n, data }, m), g.gridH, g.gridW, MORPHOLOGY);
  });
  return meanIoU(masks);
}

/** Mean IoU of each mask against the majority mask (cells set in at least half of them). */
export function meanIoU(masks: Uint8Array[]): number {
  const n = masks[0].length;
  const votes = new Uint16Array(n);
  for (const m of masks) for (let i = 0; i < n; i++) votes[i] += m[i];
  const major = Uint8Array.from(votes, (v) => (2 * v >= masks.length ? 1 : 0));
  let sum = 0;
  for (const m of masks) {
    let both = 0,
      either = 0;
    for (let i = 0; i < n; i++) {
      both += m[i] & major[i];
      either += m[i] | major[i];
    }
    sum += either === 0 ? 1 : both / either;
  }
  return sum / masks.length;
}
