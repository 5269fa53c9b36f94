// `patchcore sweep`: flags to options; the loop is model/sweep.ts, the outputs report/sweep-report.ts.
import { loadDataset } from '../../data/dataset.js';
import { runSweep, type SweepFilter } from '../../model/sweep.js';
import { writeSweepOutputs, sweepTable } from '../../report/sweep-report.js';
import { SCORE_KINDS, type ScoreKind } from '../../scoring/rules/index.js';
import { invalid } from '../../util/errors.js';
import { checkOutputDir } from '../../util/atomic.js';
import * as path from 'node:path';
import { MODEL_OPTIONS, coresetRatio, scoringFlags, split } from '../args.js';
import { custom, integer, oneOf, required, type CommandSpec } from '../options.js';
import { makeProgress } from '../progress.js';
import { backboneFromFlags, extractorFlags, runCommand } from './common.js';

const FILTERS = ['none', 'average', 'median'] as const;

const SWEEP_OPTIONS = {
  data: required('DIR', 'MVTec layout: train/good, test/<type>, ground_truth/<type>', 'a dataset folder'),
  out: required('DIR', 'output folder (sweep.json, sweep.md, SVG plots, settings/)', 'an output folder'),
  runs: integer('N', 'coreset runs per setting (seeds S..S+N-1)', 1, 100, 7),
  filters: custom(
    'LIST',
    'filter types, comma-separated: none (the baseline), average, median',
    [...FILTERS] as SweepFilter[],
    (s, f) =>
      split(s, f, `a list of ${oneOf(FILTERS)}`).map((x) => {
        if (!(FILTERS as readonly string[]).includes(x)) throw invalid(f, `a list of ${oneOf(FILTERS)}`, s);
        return x as SweepFilter;
      }),
    { shown: 'none,average,median' },
  ),
  sizes: custom(
    'LIST',
    'filter sizes, comma-separated',
    [5, 7, 9, 11, 13, 15],
    (s, f) =>
      split(s, f, 'a list of integers 1..255').map((x) => {
        const n = Number(x);
        if (!Number.isInteger(n) || n < 1 || n > 255) throw invalid(f, 'a list of integers 1..255', s);
        return n;
      }),
    { shown: '5,7,9,11,13,15' },
  ),
  ...MODEL_OPTIONS,
  score: custom(
    'LIST',
    `score kinds to compare, comma-separated (${SCORE_KINDS.join(', ')})`,
    ['nearest'] as ScoreKind[],
    (s, f) =>
      split(s, f, `a list of ${oneOf(SCORE_KINDS)}`).map((x) => {
        if (!(SCORE_KINDS as readonly string[]).includes(x)) throw invalid(f, `a list of ${oneOf(SCORE_KINDS)}`, s);
        return x as ScoreKind;
      }),
    { shown: 'nearest' },
  ),
} as const;

export const SWEEP: CommandSpec<typeof SWEEP_OPTIONS> = {
  name: 'sweep',
  usage: '--data DIR --out DIR [options]',
  about:
    "The report's experiment (its Fig. 12/14): image (and pixel, when masks exist) AUROC against\nbackground-filter size, one line per filter type, with the no-filter baseline: SVG plots, a\nMarkdown table and sweep.json. Finished settings are kept in DIR/settings and resumed.",
  options: SWEEP_OPTIONS,
  documentedAt: { command: 'fit', options: Object.keys(MODEL_OPTIONS).filter((k) => k !== 'score') },
};

export const sweepCommand = runCommand(SWEEP, async (v) => {
  if (v.foreground !== 'off') throw invalid('--foreground', '"off" (sweep compares background filters without a foreground mask)', v.foreground);
  const setup = extractorFlags(v);
  const scoring = scoringFlags({ ...v, score: v.score[0] });
  const progress = makeProgress(v.quiet);
  await checkOutputDir('--out', v.out);
  const ds = await loadDataset(v.data);
  const backbone = await backboneFromFlags(v);
  const ratio = coresetRatio(v);
  const results = await runSweep(ds, backbone, {
    out: v.out,
    filters: v.filters,
    sizes: v.sizes,
    scores: v.score,
    scoring,
    setup,
    runs: v.runs,
    ratio,
    seed: v.seed,
    device: v.device,
    progress,
    log: (msg) => void (v.quiet ? undefined : process.stderr.write(`${msg}\n`)),
  });
  const name = path.basename(ds.root);
  await writeSweepOutputs(v.out, results, v.score, ds.hasMasks, `${name} · ${backbone.spec.id} · coreset ${ratio} · ${v.runs} runs`, `${name}, ${v.runs} runs`);
  process.stdout.write(sweepTable(results));
  return 0;
});
