import { MODEL_OPTIONS, coresetMethodFlag, coresetRatio, scoringFlags } from '../args.js';
import { flag, integer, required, text, type CommandSpec } from '../options.js';
import { checkOutputDir } from '../../util/atomic.js';
import { loadDataset } from '../../data/dataset.js';
import { createExtractor } from '../../model/extract.js';
import { evaluate, type EvalResult } from '../../model/evaluate.js';
import { makeProgress } from '../progress.js';
import { backboneFromFlags, extractorFlags, runCommand } from './common.js';
import { writeEvalReport } from '../../report/eval-report.js';
import { summaryText } from '../../report/html-tables.js';
import { describeSuspects } from '../../model/suspects.js';

const EVAL_OPTIONS = {
  data: required('DIR', 'MVTec layout: train/good, test/<type>, ground_truth/<type>', 'a dataset folder'),
  runs: integer('N', 'coreset runs, seeds S..S+N-1 (the paper reports 7); features are computed once', 1, 100, 1, { key: 'runs' }),
  json: flag('print one JSON object instead of the Markdown table'),
  out: text('DIR', 'write DIR/report.html (ROC curves, per-defect table, heatmap gallery)'),
  ...MODEL_OPTIONS,
} as const;

export const EVAL: CommandSpec<typeof EVAL_OPTIONS> = {
  name: 'eval',
  usage: '--data DIR [--runs N] [--json] [--out DIR] [options]',
  about:
    "Fits on train/good and scores test/*, N runs; prints image/pixel AUROC, AUPRO and F1-max\nas mean ± std (Markdown), or one JSON object. Each run also sets fit's threshold (--target-fpr)\nand reports the false alarms on good test images and the defects caught at it. The composable\ncoreset's block stage is shared by the runs; each run redraws the final stage.",
  options: EVAL_OPTIONS,
  documentedAt: { command: 'fit', options: Object.keys(MODEL_OPTIONS) },
};

export const evalCommand = runCommand(EVAL, async (v) => {
  const scoring = scoringFlags(v);
  const opts = {
    runs: v.runs,
    ratio: coresetRatio(v),
    coresetMethod: coresetMethodFlag(v),
    seed: v.seed,
    scoring,
    targetFpr: v['target-fpr'],
    calibrationImages: v['calibration-images'],
    device: v.device,
    progress: makeProgress(v.quiet),
  };
  const setup = extractorFlags(v);
  if (v.out !== undefined) await checkOutputDir('--out', v.out);
  const ds = await loadDataset(v.data);
  const extractor = await createExtractor(ds.train, await backboneFromFlags(v), setup);
  const { backbone } = extractor;
  const r = await evaluate(ds, extractor, { ...opts, foreground: v.foreground, foregroundRange: extractor.opts.foregroundRange });
  try {
    if (v.out !== undefined) {
      const file = await writeEvalReport(v.out, r, { dataset: ds.root, backbone: backbone.spec.id, coreset: opts.ratio, scoring, runs: opts.runs });
      if (!v.json) process.stdout.write(`report: ${file}\n`);
    }
  } finally {
    r.close();
  }
  if (v.json) process.stdout.write(`${JSON.stringify(evalJson(r), null, 2)}\n`);
  else
    process.stdout.write(
      markdownTable(
        r,
        `${ds.root} · ${backbone.spec.id}${backbone.int8 ? ' int8' : ''} · coreset ${opts.ratio} · ${scoring.kind}${scoring.squared ? ' (d²)' : ''} · ${opts.runs} run(s)`,
      ),
    );
  return 0;
});

export function evalJson(r: EvalResult) {
  return {
    ...r.metrics,
    per_defect: r.per_defect,
    image_threshold: r.thresholds,
    fit_threshold: r.fitThresholds,
    seconds: r.seconds,
    coreset_methods: r.coresetNotes,
    ...(r.suspects && { suspects: r.suspects }),
    ...(r.foreground ? { foreground: { requested: r.foreground.requested, mask: r.foreground.mask, reason: r.foreground.reason } } : {}),
  };
}

export function markdownTable(r: EvalResult, title: string): string {
  const lines = [`### ${title}`, '', '| metric | value |', '|---|---|'];
  for (const [k, m] of Object.entries(r.metrics)) lines.push(`| ${k} | ${summaryText(m)} |`);
  lines.push('', '| defect type | image AUROC | pixel AUROC | AUPRO |', '|---|---|---|---|');
  for (const [d, m] of Object.entries(r.per_defect))
    lines.push(`| ${d} | ${summaryText(m.image_auroc)} | ${summaryText(m.pixel_auroc)} | ${summaryText(m.aupro)} |`);
  lines.push('', `features ${r.seconds.features.toFixed(1)} s; per run ${r.seconds.perRun.map((s) => s.toFixed(1)).join(', ')} s`);
  if (r.coresetNotes?.length) lines.push(`coreset: ${[...new Set(r.coresetNotes)].join('; ')}`);
  if (r.foreground) lines.push(`foreground (--foreground ${r.foreground.requested}): ${r.foreground.reason}`);
  if (r.suspects) lines.push(describeSuspects(r.suspects));
  lines.push('');
  return lines.join('\n');
}
