// Foreground masks on the patch grid (1 = object, scored; 0 = background, scored zero), from the
// patch features' first principal component or from the report's RGB range, and what they do to
// a patch-score grid.
import type { Geometry, PatchFeatures, PatchScores, RgbImage } from '../types.js';
import type { BgRange } from '../image/background-range.js';
import { project } from './pca.js';

/** `off`: no mask; `auto`: the PCA mask where the training images agree on it; `pca`: always; `range`: the RGB range. */
export type ForegroundMode = 'off' | 'auto' | 'pca' | 'range';
export const FOREGROUND_MODES = ['off', 'auto', 'pca', 'range'] as const;

/** The PCA mask as model.json stores it: a patch is foreground when f·axis − offset > cut. */
export interface PcaMask {
  axis: number[];
  offset: number;
  cut: number;
  /** Otsu's between-class share of the variance along the axis (what `auto` reads). */
  separation: number;
  /** Mean IoU of the training images' masks against their majority mask (null: mixed grid sizes). */
  agreement: number | null;
  /** Share of the training patches on the foreground side. */
  share: number;
}

/** The resolved setting, stored in model.json when --foreground is not off. */
export interface ForegroundConfig {
  /** What fit was asked for. */
  requested: ForegroundMode;
  /** What scores: the PCA mask, the RGB-range mask, or none (`auto` chose off). */
  mask: 'pca' | 'range' | 'none';
  /** Why, in one line (fit prints it). */
  reason: string;
  /** Grid cells of closing, then of dilation, after the threshold. */
  close: number;
  dilate: number;
  pca?: PcaMask;
  range?: BgRange;
}

/** Closing fills one-cell gaps in the object; dilation keeps a defect on its rim inside the mask. */
export const MORPHOLOGY = { close: 1, dilate: 1 } as const;
/** A cell is foreground for `range` when at least this share of its pixels lies outside the range. */
export const RANGE_CELL_SHARE = 0.25;

/** The thresholded PCA side of each patch, before closing and dilation. */
export function pcaRaw(f: PatchFeatures, m: Pick<PcaMask, 'axis' | 'offset' | 'cut'>): Uint8Array {
  const n = f.gridH * f.gridW;
  const t = project(f.data, n, f.dim, new Float64Array(f.dim), m.axis);
  return Uint8Array.from(t, (v) => (v - m.offset > m.cut ? 1 : 0));
}

/**
 * The RGB-range mask on the patch grid: a cell is foreground when at least RANGE_CELL_SHARE of
 * the original pixels under it lie outside the background range. Cells are the grid's equal
 * shares of the crop, mapped back through the resize.
 */
export function rangeRaw(img: RgbImage, g: Geometry, gridH: number, gridW: number, r: BgRange): Uint8Array {
  const out = new Uint8Array(gridH * gridW);
  const sx = g.origW / g.resizedW,
    sy = g.origH / g.resizedH;
  const span = (c: number, cells: number, crop: number, off: number, s: number, max: number) => {
    const a = Math.floor((off + (c * crop) / cells) * s),
      b = Math.ceil((off + ((c + 1) * crop) / cells) * s);
    return [Math.min(max - 1, Math.max(0, a)), Math.min(max, Math.max(a + 1, b))];
  };
  const { data, width } = img;
  const [l0, l1, l2] = r.lo,
    [h0, h1, h2] = r.hi;
  for (let y = 0; y < gridH; y++) {
    const [y0, y1] = span(y, gridH, g.cropH, g.cropY, sy, img.height);
    for (let x = 0; x < gridW; x++) {
      const [x0, x1] = span(x, gridW, g.cropW, g.cropX, sx, width);
      let fg = 0;
      for (let yy = y0; yy < y1; yy++)
        for (let xx = x0, i = (yy * width + x0) * 3; xx < x1; xx++, i += 3) {
          const a = data[i],
            b = data[i + 1],
            c = data[i + 2];
          if (!(a >= l0 && a <= h0 && b >= l1 && b <= h1 && c >= l2 && c <= h2)) fg++;
        }
      out[y * gridW + x] = fg >= RANGE_CELL_SHARE * (y1 - y0) * (x1 - x0) ? 1 : 0;
    }
  }
  return out;
}

/** Binary dilation by a (2r+1)² square; cells outside the grid count as background. */
export function dilate(m: Uint8Array, H: number, W: number, r: number): Uint8Array {
  return square(m, H, W, r, 1);
}

/** Binary erosion by a (2r+1)² square; cells outside the grid count as foreground (so the border does not eat the object). */
export function erode(m: Uint8Array, H: number, W: number, r: number): Uint8Array {
  return square(m, H, W, r, 0);
}

function square(m: Uint8Array, H: number, W: number, r: number, hit: 0 | 1): Uint8Array {
  if (r <= 0) return m.slice();
  const out = new Uint8Array(H * W);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      let found = false;
      for (let j = Math.max(0, y - r); j <= Math.min(H - 1, y + r) && !found; j++)
        for (let i = Math.max(0, x - r); i <= Math.min(W - 1, x + r); i++)
          if (m[j * W + i] === hit) {
            found = true;
            break;
          }
      out[y * W + x] = found ? hit : 1 - hit;
    }
  return out;
}

/** Closing (dilate, erode) by `close`, then dilation by `dilate`. */
export function cleanMask(raw: Uint8Array, H: number, W: number, o: { close: number; dilate: number }): Uint8Array {
  return dilate(erode(dilate(raw, H, W, o.close), H, W, o.close), H, W, o.dilate);
}

/**
 * The mask that scores an image under `fg`, or null when nothing is masked. `rangeCells` is the
 * extractor's raw RGB-range grid (present when the model uses `range`).
 */
export function foregroundCells(fg: ForegroundConfig | undefined, f: PatchFeatures, rangeCells?: Uint8Array): Uint8Array | null {
  if (!fg || fg.mask === 'none') return null;
  let raw: Uint8Array;
  if (fg.mask === 'pca') raw = pcaRaw(f, fg.pca!);
  else if (rangeCells && rangeCells.length === f.gridH * f.gridW) raw = rangeCells;
  else throw new Error('foreground: the range mask needs the image (an extractor with a foreground range)');
  return cleanMask(raw, f.gridH, f.gridW, fg);
}

/** Patch scores with the background cells set to zero (a copy; null keeps them). */
export function maskScores(p: PatchScores, keep: Uint8Array | null): PatchScores {
  if (!keep) return p;
  return { ...p, scores: p.scores.map((s, i) => (keep[i] ? s : 0)) };
}
