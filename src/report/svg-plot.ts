// Tiny dependency-free SVG charts for the evaluation report: ROC curves and mean ± std line plots
// (e.g. image AUROC vs filter size, one line per filter type, with a no-filter baseline).

export interface RocSeries {
  label: string;
  fpr: number[];
  tpr: number[];
  auc?: number;
}

export interface BandSeries {
  label: string;
  x: number[];
  mean: number[];
  std: number[];
}

export interface LineBandOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  baseline?: { label: string; mean: number; std: number };
}

/** Escape text for XML/HTML content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

const W = 600;
const H = 380;
const M = { left: 64, right: 200, top: 34, bottom: 52 }; // the right margin holds the legend
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;
const FONT = 'font-family="DejaVu Sans, Arial, sans-serif"';

/** Coordinates rounded to 0.01 px keep the markup short. */
const r2 = (v: number) => String(Math.round(v * 100) / 100);

/** "Nice" tick values (steps of 1, 2 or 5 × 10^k) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, target = 5): number[] {
  if (!(hi > lo) || !Number.isFinite(hi - lo)) return Number.isFinite(lo) ? [lo] : [];
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw * 0.7) ?? 10 * mag; // ~target..1.4×target ticks
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

const tickText = (v: number) => String(Number(v.toPrecision(6)));

interface Frame {
  sx: (v: number) => number;
  sy: (v: number) => number;
  parts: string[];
}

/** Title, axes, grid, tick labels and axis labels for a plot over [x0,x1] × [y0,y1]. */
function frame(title: string, xLabel: string, yLabel: string, [x0, x1]: [number, number], [y0, y1]: [number, number]): Frame {
  const sx = (v: number) => M.left + ((v - x0) / (x1 - x0)) * PW;
  const sy = (v: number) => M.top + PH - ((v - y0) / (y1 - y0)) * PH;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ${FONT} font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  for (const t of niceTicks(x0, x1)) {
    parts.push(`<line x1="${r2(sx(t))}" y1="${M.top}" x2="${r2(sx(t))}" y2="${M.top + PH}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${r2(sx(t))}" y="${M.top + PH + 16}" text-anchor="middle">${tickText(t)}</text>`);
  }
  for (const t of niceTicks(y0, y1)) {
    parts.push(`<line x1="${M.left}" y1="${r2(sy(t))}" x2="${M.left + PW}" y2="${r2(sy(t))}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${M.left - 6}" y="${r2(sy(t) + 4)}" text-anchor="end">${tickText(t)}</text>`);
  }
  parts.push(`<rect x="${M.left}" y="${M.top}" width="${PW}" height="${PH}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${M.left + PW / 2}" y="${H - 12}" text-anchor="middle">${escapeXml(xLabel)}</text>`);
  parts.push(`<text transform="translate(16 ${M.top + PH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>`);
  return { sx, sy, parts };
}

/** Long names are cut so the legend stays inside the right margin. */
const short = (name: string) => (name.length > 17 ? `${name.slice(0, 16)}…` : name);

/** Legend entries stacked in the right margin; `dashed` marks a baseline entry. */
function legend(items: { label: string; colour: string; dashed?: boolean }[]): string[] {
  const x = M.left + PW + 14;
  return items.flatMap((it, i) => {
    const y = M.top + 10 + i * 18;
    const dash = it.dashed ? ' stroke-dasharray="5 3"' : '';
    return [
      `<line x1="${x}" y1="${y}" x2="${x + 22}" y2="${y}" stroke="${it.colour}" stroke-width="2"${dash}/>`,
      `<text x="${x + 28}" y="${y + 4}" font-size="11">${escapeXml(it.label)}</text>`,
    ];
  });
}

const pathD = (pts: [number, number][]) => pts.map(([x, y], i) => `${i ? 'L' : 'M'}${r2(x)} ${r2(y)}`).join(' ');

/** ROC curves on [0,1]², with the chance diagonal and a legend (AUROC when given). */
export function rocSvg(curves: RocSeries[], title: string): string {
  const f = frame(title, 'false positive rate', 'true positive rate', [0, 1], [0, 1]);
  f.parts.push(`<line x1="${f.sx(0)}" y1="${f.sy(0)}" x2="${f.sx(1)}" y2="${f.sy(1)}" stroke="#999" stroke-dasharray="4 4"/>`);
  curves.forEach((c, i) => {
    const pts: [number, number][] = [];
    for (let k = 0; k < Math.min(c.fpr.length, c.tpr.length); k++)
      if (Number.isFinite(c.fpr[k]) && Number.isFinite(c.tpr[k])) pts.push([f.sx(c.fpr[k]), f.sy(c.tpr[k])]);
    f.parts.push(`<path class="roc" d="${pathD(pts)}" fill="none" stroke="${PALETTE[i % PALETTE.length]}" stroke-width="2"/>`);
  });
  const items = curves.map((c, i) => ({
    label: c.auc !== undefined && Number.isFinite(c.auc) ? `${short(c.label)} (${c.auc.toFixed(4)})` : short(c.label),
    colour: PALETTE[i % PALETTE.length],
  }));
  return [...f.parts, ...legend(items), '</svg>'].join('\n');
}

/** Data range padded by 8 % (or a small absolute amount for a flat range). */
function paddedRange(values: number[]): [number, number] {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  const pad = hi > lo ? 0.08 * (hi - lo) : Math.max(Math.abs(hi) * 0.05, 0.01);
  return [lo - pad, hi + pad];
}

/** Lines with mean ± std shaded bands, plus an optional dashed horizontal baseline with its band. */
export function lineBandSvg(series: BandSeries[], o: LineBandOptions): string {
  const clean = series.map((s) => {
    const pts: { x: number; m: number; sd: number }[] = [];
    for (let i = 0; i < s.x.length; i++)
      if (Number.isFinite(s.x[i]) && Number.isFinite(s.mean[i])) pts.push({ x: s.x[i], m: s.mean[i], sd: Number.isFinite(s.std[i]) ? s.std[i] : 0 });
    return { label: s.label, pts: pts.sort((a, b) => a.x - b.x) };
  });
  const base = o.baseline && Number.isFinite(o.baseline.mean) ? { ...o.baseline, std: Number.isFinite(o.baseline.std) ? o.baseline.std : 0 } : undefined;
  const xs = clean.flatMap((s) => s.pts.map((p) => p.x));
  const ys = clean.flatMap((s) => s.pts.flatMap((p) => [p.m - p.sd, p.m + p.sd]));
  if (base) ys.push(base.mean - base.std, base.mean + base.std);
  let xr: [number, number] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  if (xr[1] === xr[0]) xr = [xr[0] - 1, xr[1] + 1];
  const f = frame(o.title, o.xLabel, o.yLabel, xr, paddedRange(ys));
  const items: { label: string; colour: string; dashed?: boolean }[] = [];
  if (base) {
    const [a, b] = [f.sx(xr[0]), f.sx(xr[1])];
    const [top, bottom] = [f.sy(base.mean + base.std), f.sy(base.mean - base.std)];
    f.parts.push(`<rect class="baseline-band" x="${r2(a)}" y="${r2(top)}" width="${r2(b - a)}" height="${r2(bottom - top)}" fill="#555" fill-opacity="0.12"/>`);
    f.parts.push(
      `<line class="baseline" x1="${r2(a)}" y1="${r2(f.sy(base.mean))}" x2="${r2(b)}" y2="${r2(f.sy(base.mean))}" stroke="#555" stroke-width="2" stroke-dasharray="6 4"/>`,
    );
    items.push({ label: short(base.label), colour: '#555', dashed: true });
  }
  clean.forEach((s, i) => {
    const colour = PALETTE[i % PALETTE.length];
    const upper = s.pts.map((p): [number, number] => [f.sx(p.x), f.sy(p.m + p.sd)]);
    const lower = s.pts.map((p): [number, number] => [f.sx(p.x), f.sy(p.m - p.sd)]).reverse();
    if (s.pts.length) f.parts.push(`<path class="band" d="${pathD([...upper, ...lower])} Z" fill="${colour}" fill-opacity="0.18" stroke="none"/>`);
    f.parts.push(`<path class="line" d="${pathD(s.pts.map((p) => [f.sx(p.x), f.sy(p.m)]))}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    for (const p of s.pts) f.parts.push(`<circle cx="${r2(f.sx(p.x))}" cy="${r2(f.sy(p.m))}" r="3" fill="${colour}"/>`);
    items.push({ label: short(s.label), colour });
  });
  return [...f.parts, ...legend(items), '</svg>'].join('\n');
}
