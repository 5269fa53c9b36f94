// The self-contained evaluation report: one HTML file with inline SVG plots and base64 images,
// readable in a browser with no server (e.g. attached to a ticket or a CI artifact).
import * as path from 'node:path';
import type { ScoringConfig } from '../types.js';
import type { EvalResult } from '../model/evaluate.js';
import { writeFileAtomic } from '../util/atomic.js';
import { escapeXml } from './svg-plot.js';
import { metricTable, perDefectTable, timingText } from './html-tables.js';
import { imageRocHtml, pixelRocHtml } from './html-roc.js';
import { galleryHtml, MAX_GALLERY, type ThumbFormat } from './html-gallery.js';
import { scoringRule } from '../scoring/rules/index.js';
import { suspectsHtml } from './html-suspects.js';

export interface EvalReportMeta {
  dataset: string;
  backbone: string;
  coreset: number;
  scoring: ScoringConfig;
  runs: number;
}

export interface EvalReportOptions {
  /** At most this many gallery entries (default 60). */
  maxGallery?: number;
  /** Thumbnail encoding (default JPEG, to bound the page size). */
  format?: ThumbFormat;
  /** Fixed date for reproducible output (default now). */
  date?: Date;
}

const CSS = `
body{font-family:system-ui,'DejaVu Sans',Arial,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{margin-bottom:4px}h2{margin-top:32px;border-bottom:1px solid #ccc}
dl.meta{display:grid;grid-template-columns:max-content auto;gap:2px 16px}dl.meta dt{font-weight:bold}dl.meta dd{margin:0}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}td.undef{color:#a33;font-style:italic}p.undef{color:#a33}
.plots{display:flex;flex-wrap:wrap;gap:16px}.note{color:#555}
.gallery{display:flex;flex-wrap:wrap;gap:12px}
figure.entry{margin:0;padding:8px;border:1px solid #ddd;border-radius:4px}
figure.entry[data-verdict=FP],figure.entry[data-verdict=FN]{border-color:#c33;background:#fff5f5}
.panels{display:flex;gap:6px;align-items:flex-start}.panels img{display:block}.panels div img+img{margin-top:2px}
.nogt{width:160px;padding:8px;color:#777;border:1px dashed #bbb}
.v-FP,.v-FN{color:#c00;font-weight:bold}.v-TP,.v-TN{color:#070}
`;

function scoringText(s: ScoringConfig): string {
  return `${scoringRule(s.kind).label(s)}${s.squared ? ', squared distances' : ''}${s.reweight ? `, eq. 7 reweighting (b=${s.b})` : ''}, map σ=${s.sigma}`;
}

function header(r: EvalResult, meta: EvalReportMeta, date: Date): string {
  const rows: [string, string][] = [
    ['dataset', meta.dataset],
    ['backbone', meta.backbone],
    ['coreset ratio', String(meta.coreset)],
    ['scoring', scoringText(meta.scoring)],
    ['runs', `${meta.runs} (coreset seeds differ per run; features computed once)`],
    ['test images', `${r.tests.length} (${r.tests.filter((t) => t.item.label === 1).length} defective)`],
    ['generated', date.toISOString()],
  ];
  const dl = rows.map(([k, v]) => `<dt>${escapeXml(k)}</dt><dd>${escapeXml(v)}</dd>`).join('');
  return `<h1>PatchCore evaluation report</h1>\n<dl class="meta">${dl}</dl>`;
}

/** Render the whole page (no I/O besides reading the test images). */
export async function evalReportHtml(r: EvalResult, meta: EvalReportMeta, o: EvalReportOptions = {}): Promise<string> {
  const threshold = r.thresholds.length ? r.thresholds[r.thresholds.length - 1] : undefined;
  const pixelRoc = pixelRocHtml(r);
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>PatchCore evaluation · ${escapeXml(path.basename(meta.dataset))}</title>
<style>${CSS}</style></head>
<body>
${header(r, meta, o.date ?? new Date())}
<h2>Metrics</h2>
${metricTable(r)}
<p class="note">${escapeXml(timingText(r))}</p>
<h2>Per defect type</h2>
${perDefectTable(r)}
<h2>ROC curves</h2>
<div class="plots">${imageRocHtml(r)}${pixelRoc ?? '<p class="note">No pixel ROC: the dataset has no ground-truth masks.</p>'}</div>
${suspectsHtml(r.suspects)}<h2>Heatmap gallery (last run)</h2>
${await galleryHtml(r.tests, threshold, o.maxGallery ?? MAX_GALLERY, o.format)}
</body></html>
`;
}

/** Write `outDir/report.html` atomically; returns its path. */
export async function writeEvalReport(outDir: string, r: EvalResult, meta: EvalReportMeta, o: EvalReportOptions = {}): Promise<string> {
  const file = path.join(outDir, 'report.html');
  await writeFileAtomic(file, await evalReportHtml(r, meta, o));
  return file;
}
