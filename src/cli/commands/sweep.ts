// The report's experiment (its Fig. 12/14): AUROC against background-filter type and size.
// Features are computed once per preprocessing setting; each finished setting is written atomically,
// so an interrupted sweep resumes where it stopped.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { MODEL_FLAGS, coresetFlag, device, isInt, listFlag, num, parse, scoringFlags, seedFlag, str } from '../args.js';
import { loadDataset } from '../../data/dataset.js';
import { createExtractor, resolveAutoRange } from '../../model/extract.js';
import { evaluateFeatures, extractEvalFeatures, type MetricSummary } from '../../model/evaluate.js';
import { DEFAULT_BACKGROUND, validateBackgroundConfig, type BackgroundConfig } from '../../image/background.js';
import { lineBandSvg } from '../../report/svg-plot.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { UserError } from '../../util/errors.js';
import type { ScoreKind } from '../../types.js';
import { makeProgress } from '../progress.js';
import { backboneFromFlags, extractorFlags, helpRequested } from './common.js';
import { summaryText } from '../../report/html-tables.js';

const HELP = `patchcore sweep --data DIR --out DIR [--filters none,average,median] [--sizes 5,7,9,11,13,15]
                [--runs 7] [--score nearest,neighbourhood] [--bg-range LO:HI|auto] [--bg-morph K] [fit options]
  Image (and pixel, when masks exist) AUROC against filter size, one line per filter type, with the
  no-filter baseline: SVG plots, a Markdown table and sweep.json. Resumes finished settings.
`;

interface SettingResult {
  key: string;
  filter: string;
  size: number;
  score: ScoreKind;
  fingerprint: string;
  image_auroc: MetricSummary;
  pixel_auroc: MetricSummary;
  seconds: number;
}

export async function sweepCommand(argv: string[]): Promise<number> {
  const { values: v } = parse(argv, { ...MODEL_FLAGS, data: { type: 'string' }, out: { type: 'string' }, runs: { type: 'string' }, filters: { type: 'string' }, sizes: { type: 'string' } });
  if (helpRequested(v, HELP)) return 0;
  const ds = await loadDataset(str(v, 'data'));
  const out = str(v, 'out');
  const filters = listFlag(v, 'filters', 'none,average,median');
  for (const f of filters) if (!['none', 'average', 'median'].includes(f)) throw new UserError(`--filters: unknown filter '${f}' (none, average, median)`);
  const sizes = listFlag(v, 'sizes', '5,7,9,11,13,15').map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1 || n > 255) throw new UserError(`--sizes: '${s}' is not an integer 1..255`);
    return n;
  });
  const scores = listFlag(v, 'score', 'nearest') as ScoreKind[];
  const base = { ...v, score: undefined };
  const scoring = scoringFlags(base);
  for (const s of scores) scoringFlags({ ...base, score: s }); // validates each kind
  const setup = extractorFlags(v);
  const { preprocess: pre, featureDim, precision } = setup;
  const bgBase: BackgroundConfig = (await resolveAutoRange(ds.train, setup.background ?? DEFAULT_BACKGROUND))!;
  const runs = num(v, 'runs', 7, isInt(1, 100), 'an integer 1..100');
  const ratio = coresetFlag(v);
  const seed = seedFlag(v);
  const progress = makeProgress(v.quiet === true);
  const backbone = await backboneFromFlags(v);

  // settings: the baseline, then each filter × size (median sizes must be odd: skipped otherwise)
  const settings: { filter: string; size: number; bg: BackgroundConfig | null }[] = [];
  if (filters.includes('none')) settings.push({ filter: 'none', size: 0, bg: null });
  for (const filter of filters.filter((f) => f !== 'none'))
    for (const size of sizes) {
      const bg = { ...bgBase, filter: filter as BackgroundConfig['filter'], size };
      if (filter === 'median' && size % 2 === 0) {
        setup.warn(`sweep: skipping median ${size} (the median filter needs an odd size)`);
        continue;
      }
      validateBackgroundConfig(bg);
      settings.push({ filter, size, bg });
    }
  const fingerprint = JSON.stringify({ data: path.resolve(ds.root), backbone: backbone.hash, precision, ratio, seed, runs, pre, featureDim, scoring, range: bgBase.range, morph: bgBase.morph, connected: bgBase.connected ?? false });
  const results: SettingResult[] = [];
  const t0 = Date.now();
  for (const [i, s] of settings.entries()) {
    const pending = [];
    for (const score of scores) {
      const key = `${s.filter}-${s.size}-${score}`;
      const file = path.join(out, 'settings', `${key}.json`);
      const done = await readSetting(file, fingerprint);
      if (done) results.push(done);
      else pending.push({ key, file, score });
    }
    if (pending.length === 0) continue;
    const elapsed = (Date.now() - t0) / 1000;
    const eta = i > 0 ? ` eta ${Math.round((elapsed / i) * (settings.length - i))} s` : '';
    if (!v.quiet) process.stderr.write(`sweep setting ${i + 1}/${settings.length}: ${s.filter}${s.size ? ` ${s.size}` : ''}${eta}\n`);
    // int8 ranges are calibrated per setting: the filter changes what the backbone sees
    const extractor = await createExtractor(ds.train, backbone, { ...setup, background: s.bg });
    const ts = Date.now();
    const ef = await extractEvalFeatures(ds, extractor, progress);
    try {
      for (const p of pending) {
        const r = await evaluateFeatures(ef, { runs, ratio, seed, scoring: { ...scoring, kind: p.score }, device: device(v), progress });
        const res: SettingResult = { key: p.key, filter: s.filter, size: s.size, score: p.score, fingerprint, image_auroc: r.metrics.image_auroc, pixel_auroc: r.metrics.pixel_auroc, seconds: (Date.now() - ts) / 1000 };
        await writeFileAtomic(p.file, JSON.stringify(res, null, 2));
        results.push(res);
      }
    } finally {
      ef.close();
    }
  }
  await writeOutputs(out, results, scores, ds.hasMasks, `${path.basename(ds.root)} · ${backbone.spec.id} · coreset ${ratio} · ${runs} runs`, `${path.basename(ds.root)}, ${runs} runs`);
  process.stdout.write(sweepTable(results));
  return 0;
}

async function readSetting(file: string, fingerprint: string): Promise<SettingResult | null> {
  try {
    const r = JSON.parse(await fs.readFile(file, 'utf8')) as SettingResult;
    return r.fingerprint === fingerprint ? r : null;
  } catch {
    return null;
  }
}

function sweepTable(results: SettingResult[]): string {
  const rows = ['| filter | size | score | image AUROC | pixel AUROC |', '|---|---|---|---|---|'];
  for (const r of results) rows.push(`| ${r.filter} | ${r.size || '—'} | ${r.score} | ${summaryText(r.image_auroc)} | ${summaryText(r.pixel_auroc)} |`);
  return rows.join('\n') + '\n';
}

async function writeOutputs(out: string, results: SettingResult[], scores: ScoreKind[], hasMasks: boolean, title: string, plotTag: string): Promise<void> {
  await writeFileAtomic(path.join(out, 'sweep.json'), JSON.stringify(results.map(({ fingerprint: _f, ...r }) => r), null, 2));
  await writeFileAtomic(path.join(out, 'sweep.md'), `# Sweep: ${title}\n\n${sweepTable(results)}`);
  const metrics: ('image_auroc' | 'pixel_auroc')[] = hasMasks ? ['image_auroc', 'pixel_auroc'] : ['image_auroc'];
  for (const metric of metrics)
    for (const score of scores) {
      const mine = results.filter((r) => r.score === score && r[metric].mean !== null);
      const baseline = mine.find((r) => r.filter === 'none');
      const series = ['average', 'median']
        .map((filter) => mine.filter((r) => r.filter === filter).sort((a, b) => a.size - b.size))
        .filter((rs) => rs.length > 0)
        .map((rs) => ({ label: rs[0].filter, x: rs.map((r) => r.size), mean: rs.map((r) => r[metric].mean as number), std: rs.map((r) => r[metric].std as number) }));
      const svg = lineBandSvg(series, {
        title: `${metric.replace('_', ' ')} vs filter size · ${score} · ${plotTag}`,
        xLabel: 'filter size',
        yLabel: metric.replace('_', ' '),
        baseline: baseline ? { label: 'no filter', mean: baseline[metric].mean as number, std: baseline[metric].std as number } : undefined,
      });
      await writeFileAtomic(path.join(out, `${metric}-${score}.svg`), svg);
    }
}
