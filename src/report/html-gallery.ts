// Heatmap gallery of the evaluation report (like the PatchCore paper's Fig. 7/13): per test image
// the crop the backbone saw, its ground-truth contour and the anomaly-map overlay, ordered so the
// mistakes come first: false positives (highest score first), then false negatives (lowest first).
import * as path from 'node:path';
import sharp from 'sharp';
import type { RgbImage, ScoreMap } from '../types.js';
import type { TestResult } from '../model/evaluate.js';
import { loadImage, encodePng } from '../image/load.js';
import { resizeBilinear } from '../image/resize.js';
import { crop } from '../image/preprocess.js';
import { blend, legendSvg, mapRange } from './overlay.js';
import { JET_STOPS } from './colormap.js';
import { escapeXml } from './svg-plot.js';
import { fmtScore } from './html-tables.js';

/** Bounds on the self-contained page size. */
export const THUMB_SIDE = 224;
export const MAX_GALLERY = 60;

export type Verdict = 'FP' | 'FN' | 'TP' | 'TN' | 'n/a';

export interface GalleryItem {
  test: TestResult;
  score: number; // last run
  verdict: Verdict;
}

const VERDICT_TEXT: Record<Verdict, string> = {
  FP: 'false positive',
  FN: 'false negative',
  TP: 'true positive',
  TN: 'true negative',
  'n/a': 'no threshold',
};

/** Mistakes first: false positives by descending score, false negatives by ascending score, then the rest in test order. */
export function galleryOrder(tests: TestResult[], threshold: number | undefined): GalleryItem[] {
  const items = tests.map((test): GalleryItem => {
    const score = test.scores[test.scores.length - 1];
    if (threshold === undefined) return { test, score, verdict: 'n/a' };
    const predicted = score >= threshold; // same rule as f1Max
    const verdict: Verdict = test.item.label === 1 ? (predicted ? 'TP' : 'FN') : predicted ? 'FP' : 'TN';
    return { test, score, verdict };
  });
  const fp = items.filter((i) => i.verdict === 'FP').sort((a, b) => b.score - a.score);
  const fn = items.filter((i) => i.verdict === 'FN').sort((a, b) => a.score - b.score);
  return [...fp, ...fn, ...items.filter((i) => i.verdict !== 'FP' && i.verdict !== 'FN')];
}

/** One colour scale for every overlay, so a good image is not stretched to red: [min, max] over all maps. */
export function commonScale(tests: TestResult[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const t of tests) {
    const [a, b] = mapRange(t.map());
    lo = Math.min(lo, a);
    hi = Math.max(hi, b);
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  return [lo, hi > lo ? hi : lo + 1e-6];
}

/** Box-average downscale of a float map. */
function resampleMap(m: ScoreMap, w: number, h: number): ScoreMap {
  if (w === m.width && h === m.height) return m;
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const y0 = Math.floor((y * m.height) / h),
      y1 = Math.max(y0 + 1, Math.floor(((y + 1) * m.height) / h));
    for (let x = 0; x < w; x++) {
      const x0 = Math.floor((x * m.width) / w),
        x1 = Math.max(x0 + 1, Math.floor(((x + 1) * m.width) / w));
      let s = 0;
      for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) s += m.data[yy * m.width + xx];
      out[y * w + x] = s / ((y1 - y0) * (x1 - x0));
    }
  }
  return { width: w, height: h, data: out };
}

/** Nearest-neighbour downscale of a 0/1 mask. */
function resampleMask(mask: Uint8Array, sw: number, sh: number, w: number, h: number): Uint8Array {
  if (w === sw && h === sh) return mask;
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[y * w + x] = mask[Math.floor(((y + 0.5) * sh) / h) * sw + Math.floor(((x + 0.5) * sw) / w)];
  return out;
}

/** The image as the backbone saw it (resize + crop), with map and mask, all shrunk to the thumbnail size. */
async function alignedThumb(t: TestResult): Promise<{ img: RgbImage; map: ScoreMap; mask?: Uint8Array }> {
  const g = t.geometry,
    m = t.map();
  if (m.width !== g.cropW || m.height !== g.cropH)
    throw new Error(`${t.item.file}: anomaly map is ${m.width}x${m.height} but the crop is ${g.cropW}x${g.cropH}`);
  const full = await loadImage(t.item.file);
  const cropped = crop(resizeBilinear(full, g.resizedW, g.resizedH), g.cropX, g.cropY, g.cropW, g.cropH);
  const s = Math.min(1, THUMB_SIDE / Math.max(g.cropW, g.cropH));
  const w = Math.max(1, Math.round(g.cropW * s));
  const h = Math.max(1, Math.round(g.cropH * s));
  return {
    img: resizeBilinear(cropped, w, h),
    map: resampleMap(m, w, h),
    mask: t.mask && resampleMask(t.mask, g.cropW, g.cropH, w, h),
  };
}

export type ThumbFormat = 'jpeg' | 'png';

const dataUri = (mime: string, b: Buffer | string) => `data:${mime};base64,${Buffer.from(b).toString('base64')}`;

/** JPEG by default: about a tenth of the PNG size, which keeps a 60-entry page near 2 MB. */
async function imageUri(img: RgbImage, format: ThumbFormat): Promise<string> {
  if (format === 'png') return dataUri('image/png', await encodePng(img));
  return dataUri(
    'image/jpeg',
    await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
      .jpeg({ quality: 88 })
      .toBuffer(),
  );
}

interface EntryContext {
  scale: [number, number];
  threshold: number | undefined;
  format: ThumbFormat;
}

async function entryHtml(it: GalleryItem, rank: number, c: EntryContext): Promise<string> {
  const t = it.test;
  const [vmin, vmax] = c.scale;
  const name = escapeXml(path.basename(t.item.file));
  const label = t.item.label === 1 ? `defect: ${escapeXml(t.item.defect)}` : 'good';
  const caption = `<figcaption><b>#${rank}</b> <span title="${escapeXml(t.item.file)}">${name}</span> · ${label} · score ${fmtScore(it.score)} (normalized ${t.normalized.toFixed(3)}) · <span class="v-${it.verdict.replace('/', '')}">${VERDICT_TEXT[it.verdict]}</span></figcaption>`;
  let panels: string;
  try {
    const { img, map, mask } = await alignedThumb(t);
    const gt = mask
      ? `<img alt="ground truth" title="ground-truth contour" src="${await imageUri(blend(img, map, vmin, vmax, 0, mask), c.format)}">`
      : '<div class="nogt">no ground truth</div>';
    // the legend is a separate SVG image (crisp text at any format; its gradient id stays private)
    const legend =
      c.threshold === undefined ? '' : `<img alt="legend" src="${dataUri('image/svg+xml', legendSvg(img.width, 36, vmin, vmax, c.threshold, it.score))}">`;
    const overlay = `<div><img alt="anomaly map" title="anomaly map" src="${await imageUri(blend(img, map, vmin, vmax), c.format)}">${legend}</div>`;
    panels = `<img alt="input" title="input (as cropped for the backbone)" src="${await imageUri(img, c.format)}">${gt}${overlay}`;
  } catch (e) {
    panels = `<div class="nogt">image unavailable: ${escapeXml(e instanceof Error ? e.message.split('\n')[0] : String(e))}</div>`;
  }
  return `<figure class="entry" data-verdict="${it.verdict}"><div class="panels">${panels}</div>${caption}</figure>`;
}

/** Colour bar of the common scale, as inline SVG. */
function scaleBar(vmin: number, vmax: number, threshold: number | undefined): string {
  const tx = threshold === undefined ? null : 10 + 300 * Math.max(0, Math.min(1, (threshold - vmin) / (vmax - vmin)));
  const mark = tx === null ? '' : `<line x1="${tx.toFixed(1)}" y1="2" x2="${tx.toFixed(1)}" y2="20" stroke="black" stroke-width="2"/>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="38" font-size="11" font-family="DejaVu Sans, Arial, sans-serif"><defs><linearGradient id="scale">${JET_STOPS}</linearGradient></defs><rect x="10" y="5" width="300" height="12" fill="url(#scale)"/>${mark}<text x="10" y="33">${fmtScore(vmin)}</text><text x="310" y="33" text-anchor="end">${fmtScore(vmax)}</text></svg>`;
}

export async function galleryHtml(tests: TestResult[], threshold: number | undefined, maxEntries = MAX_GALLERY, format: ThumbFormat = 'jpeg'): Promise<string> {
  const order = galleryOrder(tests, threshold);
  const scale = commonScale(tests);
  const shown = order.slice(0, maxEntries);
  const count = (v: Verdict) => order.filter((i) => i.verdict === v).length;
  const thrText =
    threshold === undefined
      ? 'No image threshold (the F1-optimal threshold is undefined), so no verdicts.'
      : `Verdicts at the last run's F1-optimal image threshold ${fmtScore(threshold)} (score ≥ threshold ⇒ anomalous): ${count('FP')} false positive(s), ${count('FN')} false negative(s).`;
  const truncated =
    shown.length < order.length
      ? `<p class="note">Showing ${shown.length} of ${order.length} test images: mistakes first, the rest in test-set order.</p>`
      : '';
  const entries: string[] = [];
  for (let i = 0; i < shown.length; i++) entries.push(await entryHtml(shown[i], i + 1, { scale, threshold, format })); // sequential: bounded memory
  return [
    `<p>${escapeXml(thrText)}</p>`,
    `<p>Common colour scale for every overlay: vmin = ${fmtScore(scale[0])} (minimum over all ${tests.length} anomaly maps), vmax = ${fmtScore(scale[1])} (maximum over all maps)${threshold === undefined ? '' : '; the black mark is the image threshold'}.</p>`,
    scaleBar(scale[0], scale[1], threshold),
    truncated,
    '<p class="note">Panels: input as cropped for the backbone · ground-truth contour (white) · anomaly map overlay (jet) with legend.</p>',
    `<div class="gallery">\n${entries.join('\n')}\n</div>`,
  ].join('\n');
}
