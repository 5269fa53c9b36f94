import { MODEL_FLAGS, coresetFlag, device, isInt, num, parse, scoringFlags, seedFlag, str, targetFprFlag, calibrationImagesFlag } from '../args.js';
import { loadDataset } from '../../data/dataset.js';
import { createExtractor } from '../../model/extract.js';
import { evaluate, type EvalResult } from '../../model/evaluate.js';
import { makeProgress } from '../progress.js';
import { backboneFromFlags, extractorFlags, helpRequested } from './common.js';
import { writeEvalReport } from '../../report/eval-report.js';
import { summaryText } from '../../report/html-tables.js';

const HELP = `patchcore eval --data DIR [--runs N] [--seed S] [--coreset R] [--json] [--out DIR] [fit options]
  Fits on train/good and scores test/*, runs N times with seeds S..S+N-1 (features computed once).
  Prints a Markdown table (mean ± std); --json prints one JSON object; --out DIR writes report.html.
  Each run also sets fit's threshold (--target-fpr A, default 0.05, from leave-one-image-out training
  scores) and reports the false alarms on good test images and the defects caught at it.
`;

export async function evalCommand(argv: string[]): Promise<number> {
  const { values: v } = parse(argv, { ...MODEL_FLAGS, data: { type: 'string' }, runs: { type: 'string' }, json: { type: 'boolean' }, out: { type: 'string' } });
  if (helpRequested(v, HELP)) return 0;
  const ds = await loadDataset(str(v, 'data'));
  const scoring = scoringFlags(v);
  const opts = {
    runs: num(v, 'runs', 1, isInt(1, 100), 'an integer 1..100'),
    ratio: coresetFlag(v),
    seed: seedFlag(v),
    scoring,
    targetFpr: targetFprFlag(v),
    calibrationImages: calibrationImagesFlag(v),
    device: device(v),
    progress: makeProgress(v.quiet === true),
  };
  const setup = extractorFlags(v); // flag errors before the backbone loads
  const extractor = await createExtractor(ds.train, await backboneFromFlags(v), setup);
  const { backbone } = extractor;
  const r = await evaluate(ds, extractor, opts);
  if (typeof v.out === 'string') {
    const file = await writeEvalReport(v.out, r, { dataset: ds.root, backbone: backbone.spec.id, coreset: opts.ratio, scoring, runs: opts.runs });
    if (!v.json) process.stdout.write(`report: ${file}\n`);
  }
  if (v.json) process.stdout.write(JSON.stringify(evalJson(r), null, 2) + '\n');
  else process.stdout.write(markdownTable(r, `${ds.root} · ${backbone.spec.id}${backbone.int8 ? ' int8' : ''} · coreset ${opts.ratio} · ${scoring.kind}${scoring.squared ? ' (d²)' : ''} · ${opts.runs} run(s)`));
  return 0;
}

export function evalJson(r: EvalResult) {
  return { ...r.metrics, per_defect: r.per_defect, image_threshold: r.thresholds, fit_threshold: r.fitThresholds, seconds: r.seconds };
}

export function markdownTable(r: EvalResult, title: string): string {
  const lines = [`### ${title}`, '', '| metric | value |', '|---|---|'];
  for (const [k, m] of Object.entries(r.metrics)) lines.push(`| ${k} | ${summaryText(m)} |`);
  lines.push('', '| defect type | image AUROC | pixel AUROC | AUPRO |', '|---|---|---|---|');
  for (const [d, m] of Object.entries(r.per_defect)) lines.push(`| ${d} | ${summaryText(m.image_auroc)} | ${summaryText(m.pixel_auroc)} | ${summaryText(m.aupro)} |`);
  lines.push('', `features ${r.seconds.features.toFixed(1)} s; per run ${r.seconds.perRun.map((s) => s.toFixed(1)).join(', ')} s`, '');
  return lines.join('\n');
}
