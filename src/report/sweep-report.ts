// The sweep's outputs: sweep.json, a Markdown table and one SVG plot per metric and score kind.
import * as path from 'node:path';
import type { SettingResult } from '../model/sweep.js';
import type { ScoreKind } from '../types.js';
import { writeFileAtomic } from '../util/atomic.js';
import { lineBandSvg } from './svg-plot.js';
import { summaryText } from './html-tables.js';

export function sweepTable(results: SettingResult[]): string {
  const rows = ['| filter | size | score | image AUROC | pixel AUROC |', '|---|---|---|---|---|'];
  for (const r of results) rows.push(`| ${r.filter} | ${r.size || '—'} | ${r.score} | ${summaryText(r.image_auroc)} | ${summaryText(r.pixel_auroc)} |`);
  return rows.join('\n') + '\n';
}

export async function writeSweepOutputs(
  out: string,
  results: SettingResult[],
  scores: ScoreKind[],
  hasMasks: boolean,
  title: string,
  plotTag: string,
): Promise<void> {
  await writeFileAtomic(
    path.join(out, 'sweep.json'),
    JSON.stringify(
      results.map(({ fingerprint: _f, ...r }) => r),
      null,
      2,
    ),
  );
  await writeFileAtomic(path.join(out, 'sweep.md'), `# Sweep: ${title}\n\n${sweepTable(results)}`);
  const metrics: ('image_auroc' | 'pixel_auroc')[] = hasMasks ? ['image_auroc', 'pixel_auroc'] : ['image_auroc'];
  for (const metric of metrics)
    for (const score of scores) {
      const mine = results.filter((r) => r.score === score && r[metric].mean !== null);
      const baseline = mine.find((r) => r.filter === 'none');
      const series = ['average', 'median']
        .map((filter) => mine.filter((r) => r.filter === filter).sort((a, b) => a.size - b.size))
        .filter((rs) => rs.length > 0)
        .map((rs) => ({
          label: rs[0].filter,
          x: rs.map((r) => r.size),
          mean: rs.map((r) => r[metric].mean as number),
          std: rs.map((r) => r[metric].std as number),
        }));
      const svg = lineBandSvg(series, {
        title: `${metric.replace('_', ' ')} vs filter size · ${score} · ${plotTag}`,
        xLabel: 'filter size',
        yLabel: metric.replace('_', ' '),
        baseline: baseline ? { label: 'no filter', mean: baseline[metric].mean as number, std: baseline[metric].std as number } : undefined,
      });
      await writeFileAtomic(path.join(out, `${metric}-${score}.svg`), svg);
    }
}
