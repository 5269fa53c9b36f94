// Resize (shorter side), center crop, normalise: the image -> backbone boundary.
import type { Geometry, PreprocessConfig, RgbImage, Tensor } from '../types.js';
export type { Geometry };
import { resizeBilinear } from './resize.js';

/** Where the backbone input sits inside the original image, to map results back. */
export function geometry(w: number, h: number, cfg: PreprocessConfig): Geometry {
  const s = cfg.resize / Math.min(w, h);
  const resizedW = Math.max(1, Math.round(w * s));
  const resizedH = Math.max(1, Math.round(h * s));
  if (cfg.crop === 'none') return { origW: w, origH: h, resizedW, resizedH, cropX: 0, cropY: 0, cropW: resizedW, cropH: resizedH };
  const cropW = Math.min(cfg.crop, resizedW);
  const cropH = Math.min(cfg.crop, resizedH);
  // torchvision CenterCrop rounds the offset
  const cropX = Math.round((resizedW - cropW) / 2);
  const cropY = Math.round((resizedH - cropH) / 2);
  return { origW: w, origH: h, resizedW, resizedH, cropX, cropY, cropW, cropH };
}

/** The part of the original image the model saw, in original pixels (a centre crop leaves the rest uninspected). */
export function inspectedBox(g: Geometry): { x: number; y: number; width: number; height: number } {
  const sx = g.origW / g.resizedW;
  const sy = g.origH / g.resizedH;
  return { x: Math.round(g.cropX * sx), y: Math.round(g.cropY * sy), width: Math.round(g.cropW * sx), height: Math.round(g.cropH * sy) };
}

/** Fraction of the original image area that the crop discards. */
export function discardedFraction(g: Geometry): number {
  return 1 - (g.cropW * g.cropH) / (g.resizedW * g.resizedH);
}

/** A warning when the crop drops more than the usual square-image border, e.g. the sides of a wide image. */
export function cropWarning(g: Geometry): string | null {
  if (g.cropW === g.resizedW && g.cropH === g.resizedH) return null;
  if (g.resizedW === g.resizedH) return null; // square images: the standard 256->224 border only
  const pct = (100 * discardedFraction(g)).toFixed(0);
  return `warning: center crop ${g.cropW}x${g.cropH} of a ${g.resizedW}x${g.resizedH} resized image discards ${pct}% of it, including the borders where defects can be; pass --crop none to keep the whole image`;
}

/** Image -> normalised [1,3,H,W] tensor plus its geometry. */
export async function preprocess(img: RgbImage, cfg: PreprocessConfig): Promise<{ tensor: Tensor; geometry: Geometry; cropped: RgbImage }> {
  const g = geometry(img.width, img.height, cfg);
  const resized = resizeBilinear(img, g.resizedW, g.resizedH);
  const cropped = crop(resized, g.cropX, g.cropY, g.cropW, g.cropH);
  return { tensor: normalise(cropped, cfg), geometry: g, cropped };
}

export function crop(img: RgbImage, x: number, y: number, w: number, h: number): RgbImage {
  if (x === 0 && y === 0 && w === img.width && h === img.height) return img;
  const out = new Uint8Array(w * h * 3);
  for (let r = 0; r < h; r++) out.set(img.data.subarray(((y + r) * img.width + x) * 3, ((y + r) * img.width + x + w) * 3), r * w * 3);
  return { width: w, height: h, data: out };
}

/** HWC uint8 -> CHW float, (x/255 - mean)/std: a 256-entry table per channel (the same values, no division per pixel). */
export function normalise(img: RgbImage, cfg: Pick<PreprocessConfig, 'mean' | 'std'>): Tensor {
  const n = img.width * img.height;
  const out = new Float32Array(3 * n);
  for (let c = 0; c < 3; c++) {
    const lut = normaliseTable(cfg.mean[c], cfg.std[c]);
    for (let i = 0, o = c * n, p = c; i < n; i++, p += 3) out[o + i] = lut[img.data[p]];
  }
  return { dims: [1, 3, img.height, img.width], data: out };
}

/** The plain loop: the reference `normalise` is tested equal to. */
export function normalisePlain(img: RgbImage, cfg: Pick<PreprocessConfig, 'mean' | 'std'>): Tensor {
  const n = img.width * img.height;
  const out = new Float32Array(3 * n);
  for (let c = 0; c < 3; c++) {
    const m = cfg.mean[c];
    const inv = 1 / cfg.std[c];
    for (let i = 0; i < n; i++) out[c * n + i] = (img.data[i * 3 + c] / 255 - m) * inv;
  }
  return { dims: [1, 3, img.height, img.width], data: out };
}

/** (v/255 - mean)·(1/std) for v = 0…255, in float32 as normalise stores it. */
function normaliseTable(mean: number, std: number): Float32Array {
  const inv = 1 / std;
  return Float32Array.from({ length: 256 }, (_, v) => (v / 255 - mean) * inv);
}

/** Stack same-sized [1,3,H,W] tensors into one batch. */
export function stack(tensors: Tensor[]): Tensor {
  const per = tensors[0].data.length;
  const data = new Float32Array(per * tensors.length);
  for (const [i, t] of tensors.entries()) data.set(t.data, i * per);
  return { dims: [tensors.length, ...tensors[0].dims.slice(1)], data };
}
