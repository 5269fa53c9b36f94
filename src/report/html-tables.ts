// HTML tables of the evaluation report: metrics with their run spread, and the per-defect breakdown.
// An undefined metric is printed as "undefined (reason)"; nothing here ever prints NaN.
import type { EvalResult, MetricSummary } from '../model/evaluate.js';
import { escapeXml } from './svg-plot.js';

const METRIC_NAMES: Record<keyof EvalResult['metrics'], string> = {
  image_auroc: 'Image AUROC',
  image_f1_max: 'Image F1-max',
  pixel_auroc: 'Pixel AUROC',
  pixel_auroc_anomalous: 'Pixel AUROC (anomalous images only)',
  aupro: 'AUPRO (FPR ≤ 0.3)',
  threshold_fpr: "False alarms on good test images at fit's threshold",
  threshold_recall: "Defects caught at fit's threshold",
};

/** A metric value with fixed decimals, or "undefined" for a missing / non-finite one. */
export function fmtNumber(v: number | null | undefined, digits = 4): string {
  return v === null || v === undefined || !Number.isFinite(v) ? 'undefined' : v.toFixed(digits);
}

/** An anomaly score with about 4 significant digits (scores have no fixed scale). */
export function fmtScore(v: number): string {
  if (!Number.isFinite(v)) return 'undefined';
  const a = Math.abs(v);
  return a >= 1000 ? v.toFixed(0) : a >= 1 ? v.toPrecision(4) : a === 0 ? '0' : v.toPrecision(3);
}

/** "mean ± std" (just the value for one run) or "undefined (reason)". */
export function summaryText(m: MetricSummary): string {
  if (m.mean === null) return `undefined (${m.reason})`;
  return m.runs.length > 1 ? `${fmtNumber(m.mean)} ± ${fmtNumber(m.std)}` : fmtNumber(m.mean);
}

const cell = (m: MetricSummary) => `<td class="${m.mean === null ? 'undef' : 'num'}">${escapeXml(summaryText(m))}</td>`;

export function metricTable(r: EvalResult): string {
  const runs = Math.max(1, ...Object.values(r.metrics).map((m) => m.runs.length));
  const head = Array.from({ length: runs }, (_, i) => `<th>run ${i + 1}</th>`).join('');
  const rows = (Object.keys(METRIC_NAMES) as (keyof EvalResult['metrics'])[]).map((k) => {
    const m = r.metrics[k];
    const perRun = Array.from({ length: runs }, (_, i) => `<td class="num">${fmtNumber(m.runs[i])}</td>`).join('');
    return `<tr><th scope="row">${escapeXml(METRIC_NAMES[k])}</th>${cell(m)}${perRun}</tr>`;
  });
  const thr = Array.from({ length: runs }, (_, i) => `<td class="num">${r.thresholds[i] === undefined ? 'undefined' : fmtScore(r.thresholds[i])}</td>`).join(
    '',
  );
  rows.push(`<tr class="thr"><th scope="row">Image threshold (F1-optimal)</th><td>—</td>${thr}</tr>`);
  return `<table class="metrics"><thead><tr><th>metric</th><th>mean ± std</th>${head}</tr></thead>\n<tbody>${rows.join('\n')}</tbody></table>`;
}

export function perDefectTable(r: EvalResult): string {
  const entries = Object.entries(r.per_defect);
  if (!entries.length) return '<p>No defect types in the test set.</p>';
  const rows = entries.map(([d, m]) => `<tr><th scope="row">${escapeXml(d)}</th>${cell(m.image_auroc)}${cell(m.pixel_auroc)}${cell(m.aupro)}</tr>`);
  return `<table class="per-defect"><thead><tr><th>defect type (vs. good)</th><th>Image AUROC</th><th>Pixel AUROC</th><th>AUPRO</th></tr></thead>\n<tbody>${rows.join('\n')}</tbody></table>`;
}

export function timingText(r: EvalResult): string {
  const per = r.seconds.perRun.map((s) => fmtNumber(s, 1)).join(', ');
  return `Features ${fmtNumber(r.seconds.features, 1)} s (once); coreset + scoring per run: ${per || '—'} s.`;
}
