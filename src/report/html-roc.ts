// ROC plots of the last run: image level (all defects, plus one curve per defect type vs. good)
// and pixel level on a deterministic subsample of the pixels.
import type { EvalResult, TestResult } from '../model/evaluate.js';
import { rocCurve } from '../metrics/index.js';
import { rocSvg, escapeXml, type RocSeries } from './svg-plot.js';

/** Pixel ROC input is capped: sorting millions of pixels would dominate the report time. */
export const MAX_ROC_PIXELS = 200_000;

const lastScore = (t: TestResult) => t.scores[t.scores.length - 1];
/** Pixels of a test's map, known without reading the map from disk. */
const mapPixels = (t: TestResult) => t.geometry.cropW * t.geometry.cropH;
const lastRun = (runs: (number | null)[]) => runs[runs.length - 1] ?? undefined;
const undefinedPlot = (what: string, reason: string) => `<p class="undef">${escapeXml(what)}: undefined (${escapeXml(reason)})</p>`;

export function imageRocHtml(r: EvalResult): string {
  const labels = r.tests.map((t) => t.item.label);
  const all = rocCurve(r.tests.map(lastScore), labels);
  if (all.reason) return undefinedPlot('Image ROC', all.reason);
  const curves: RocSeries[] = [{ label: 'all defects', fpr: all.fpr, tpr: all.tpr, auc: lastRun(r.metrics.image_auroc.runs) }];
  const defects = Object.keys(r.per_defect);
  if (defects.length > 1)
    for (const d of defects) {
      const sub = r.tests.filter((t) => t.item.label === 0 || t.item.defect === d);
      const c = rocCurve(
        sub.map(lastScore),
        sub.map((t) => t.item.label),
      );
      if (!c.reason) curves.push({ label: d, fpr: c.fpr, tpr: c.tpr, auc: lastRun(r.per_defect[d].image_auroc.runs) });
    }
  return rocSvg(curves, 'Image-level ROC (last run)');
}

/** Every `stride`-th pixel over all maps, stride chosen so at most `max` pixels remain (each map read once). */
export function subsamplePixels(tests: TestResult[], max = MAX_ROC_PIXELS): { scores: Float32Array; labels: Uint8Array; total: number; stride: number } {
  const total = tests.reduce((n, t) => n + mapPixels(t), 0);
  const stride = Math.max(1, Math.ceil(total / max));
  const scores = new Float32Array(Math.ceil(total / stride));
  const labels = new Uint8Array(scores.length);
  let g = 0; // global pixel index of the current map's first pixel
  let k = 0;
  for (const t of tests) {
    const map = t.map().data,
      n = map.length;
    for (let i = (stride - (g % stride)) % stride; i < n; i += stride, k++) {
      scores[k] = map[i];
      labels[k] = t.mask![i] ? 1 : 0;
    }
    g += n;
  }
  return { scores: scores.subarray(0, k), labels: labels.subarray(0, k), total, stride };
}

/** Pixel ROC when every test image has an aligned mask; null otherwise. */
export function pixelRocHtml(r: EvalResult): string | null {
  if (!r.tests.length || r.tests.some((t) => !t.mask || t.mask.length !== mapPixels(t))) return null;
  const s = subsamplePixels(r.tests);
  const c = rocCurve(s.scores, s.labels);
  if (c.reason) return undefinedPlot('Pixel ROC', c.reason);
  const title =
    s.stride > 1
      ? `Pixel-level ROC, last run (1 in ${s.stride} pixels: ${s.scores.length.toLocaleString('en')} of ${s.total.toLocaleString('en')})`
      : 'Pixel-level ROC (last run, all pixels)';
  return rocSvg([{ label: 'all pixels', fpr: c.fpr, tpr: c.tpr, auc: lastRun(r.metrics.pixel_auroc.runs) }], title);
}
