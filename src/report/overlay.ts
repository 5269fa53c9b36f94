// Heatmap overlay PNG: the anomaly map in jet colours blended over the image, with a legend bar
// giving the colour scale, the threshold mark and the image score.
import sharp from 'sharp';
import type { RgbImage, ScoreMap } from '../types.js';
import { jet, JET_STOPS } from './colormap.js';

export interface OverlayOptions {
  score: number;
  threshold: number;
  /** Colour scale; defaults to [map min, max(map max, threshold)] so good images stay cool. */
  vmin?: number;
  vmax?: number;
  alpha?: number;
  /** Draw the ground-truth outline (1 = defect), same size as the image. */
  contour?: Uint8Array;
}

/** [min, max] of the map's values; [Infinity, -Infinity] when empty (NaN values are skipped). */
export function mapRange(map: ScoreMap): [min: number, max: number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of map.data) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

export function colourScale(map: ScoreMap, threshold: number): [number, number] {
  const [lo, max] = mapRange(map);
  const hi = Math.max(max, threshold);
  return [lo, hi > lo ? hi : lo + 1e-6];
}

/** The station's and the studio's fixed colour range for every part: the pixel threshold sits in the middle. */
export function heatScale(pixelThreshold: number): { vmin: number; vmax: number } {
  return { vmin: 0.5 * pixelThreshold, vmax: 1.5 * pixelThreshold };
}

/** Blend the map over the image (same size) into a new RGB image. */
export function blend(img: RgbImage, map: ScoreMap, vmin: number, vmax: number, alpha = 0.45, contour?: Uint8Array): RgbImage {
  const n = img.width * img.height;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const c = jet((map.data[i] - vmin) / (vmax - vmin));
    for (let k = 0; k < 3; k++) out[3 * i + k] = Math.round(img.data[3 * i + k] * (1 - alpha) + c[k] * alpha);
  }
  if (contour) drawContour(out, contour, img.width, img.height);
  return { width: img.width, height: img.height, data: out };
}

/** Mask boundary pixels in white (a defect pixel with a non-defect 4-neighbour). */
function drawContour(out: Uint8Array, mask: Uint8Array, w: number, h: number): void {
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (!mask[i]) continue;
      const edge = x === 0 || y === 0 || x === w - 1 || y === h - 1 || !mask[i - 1] || !mask[i + 1] || !mask[i - w] || !mask[i + w];
      if (edge) out.set([255, 255, 255], 3 * i);
    }
}

/** PNG of image + overlay + legend. */
export async function overlayPng(img: RgbImage, map: ScoreMap, o: OverlayOptions): Promise<Buffer> {
  const [lo, hi] = o.vmin !== undefined && o.vmax !== undefined ? [o.vmin, o.vmax] : colourScale(map, o.threshold);
  const blended = blend(img, map, lo, hi, o.alpha, o.contour);
  const legendH = 48;
  const legend = Buffer.from(legendSvg(img.width, legendH, lo, hi, o.threshold, o.score));
  return sharp({ create: { width: img.width, height: img.height + legendH, channels: 3, background: '#ffffff' } })
    .composite([
      {
        input: Buffer.from(blended.data.buffer, blended.data.byteOffset, blended.data.byteLength),
        raw: { width: img.width, height: img.height, channels: 3 },
        left: 0,
        top: 0,
      },
      { input: legend, left: 0, top: img.height },
    ])
    .png()
    .toBuffer();
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3));

export function legendSvg(width: number, height: number, lo: number, hi: number, threshold: number, score: number): string {
  const pad = 6;
  const barW = Math.max(40, width - 2 * pad);
  const tx = pad + barW * Math.max(0, Math.min(1, (threshold - lo) / (hi - lo)));
  const verdict = score >= threshold ? 'ANOMALOUS' : 'good';
  const fs = Math.max(8, Math.min(12, Math.floor(width / 22)));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
<defs><linearGradient id="g">${JET_STOPS}</linearGradient></defs>
<rect x="${pad}" y="3" width="${barW}" height="10" fill="url(#g)"/>
<line x1="${tx}" y1="1" x2="${tx}" y2="15" stroke="black" stroke-width="2"/>
<text x="${pad}" y="27" font-family="DejaVu Sans, sans-serif" font-size="${fs}" fill="black">${fmt(lo)}</text>
<text x="${width / 2}" y="${height - 6}" text-anchor="middle" font-family="DejaVu Sans, sans-serif" font-size="${fs}" fill="black">score ${fmt(score)} (thr ${fmt(threshold)}) ${verdict}</text>
<text x="${width - pad}" y="27" text-anchor="end" font-family="DejaVu Sans, sans-serif" font-size="${fs}" fill="black">${fmt(hi)}</text>
</svg>`;
}
