// Paired comparison of settings on one dataset: every setting scores the same test images, so the
// difference of two image AUROCs has a much smaller error than either AUROC alone (whose test-set
// standard error is 0.04 on tire). A stratified bootstrap over the test images (good and defective
// resampled separately) gives each difference a 95 % interval and the share of resamples where it
// is ≤ 0.
//   npm run paired -- --data DIR --settings v2,inception_v3/384/none/int8/0/0.01 [--runs 3] [--boot 2000] [--out FILE]
// A setting is a preset name or backbone/resize/crop/precision/dim/ratio (bench/lib/settings.ts).
// Each image's score is its mean over the runs (seeds 0..runs−1), so AUROCs here are of the mean
// score, close to but not the mean AUROC that `npm run accuracy` reports.
import * as os from 'node:os';
import * as path from 'node:path';
import { loadDataset, type Dataset } from '../../src/data/dataset.js';
import { evaluateFeatures, extractEvalFeatures } from '../../src/model/evaluate.js';
import { DEFAULT_PRESET, DEFAULT_SCORING } from '../../src/model/config.js';
import { Rng } from '../../src/util/rng.js';
import { writeFileAtomic } from '../../src/util/atomic.js';
import { extractorFor, presetNamed } from '../lib/settings.js';
import { arg } from '../lib/args.js';
import { aurocOf, percentileInterval, type Interval } from '../lib/bootstrap.js';

/** Image scores (mean over runs) of one setting, in test order. */
async function scoresOf(ds: Dataset, name: string, runs: number): Promise<{ scores: number[]; labels: number[]; files: string[] }> {
  const p = presetNamed(name);
  const ex = await extractorFor(p, ds.train);
  const ef = await extractEvalFeatures(ds, ex);
  try {
    const r = await evaluateFeatures(ef, { runs, ratio: p.ratio, seed: 0, scoring: DEFAULT_SCORING });
    r.close(); // the maps on disk are not used
    return {
      scores: r.tests.map((t) => t.scores.reduce((a, b) => a + b, 0) / t.scores.length),
      labels: r.tests.map((t) => t.item.label),
      files: r.tests.map((t) => t.item.file),
    };
  } finally {
    ef.close();
  }
}

/** Stratified bootstrap of AUROC(a) − AUROC(b) over the same images. */
export function pairedBootstrap(a: number[], b: number[], labels: number[], boot: number, seed = 0): Interval & { diff: number } {
  const good = labels.flatMap((l, i) => (l === 0 ? [i] : []));
  const bad = labels.flatMap((l, i) => (l === 1 ? [i] : []));
  const rng = new Rng(seed);
  const diffs = new Float64Array(boot);
  const n = good.length + bad.length;
  const sa = new Float64Array(n),
    sb = new Float64Array(n),
    sl = new Uint8Array(n);
  for (let k = 0; k < boot; k++) {
    let j = 0;
    for (const pool of [good, bad])
      for (let t = 0; t < pool.length; t++) {
        const i = pool[rng.int(pool.length)];
        sa[j] = a[i];
        sb[j] = b[i];
        sl[j++] = labels[i];
      }
    diffs[k] = aurocOf(sa, sl) - aurocOf(sb, sl);
  }
  return { diff: aurocOf(a, labels) - aurocOf(b, labels), ...percentileInterval(diffs) };
}

async function main(): Promise<void> {
  const data = arg('data', path.resolve('..', 'shared', 'datasets', 'mvtec3d_tire'));
  const names = arg('settings', `v1,${DEFAULT_PRESET}`).split(',');
  const runs = Number(arg('runs', '3'));
  const boot = Number(arg('boot', '2000'));
  for (const [name, v] of [
    ['--runs', runs],
    ['--boot', boot],
  ] as const)
    if (!(Number.isInteger(v) && v >= 1)) throw new Error(`Expected a positive integer for ${name} but received ${JSON.stringify(arg(name.slice(2), ''))}`);
  const out = arg('out', '');
  console.log(`${data}: ${names.join(' | ')}; ${runs} run(s) per setting, ${boot} resamples; load ${os.loadavg()[0].toFixed(1)}, ${new Date().toISOString()}`);
  const ds = await loadDataset(data);
  const results: Record<string, { scores: number[]; labels: number[]; files: string[] }> = {};
  for (const name of names) {
    results[name] = await scoresOf(ds, name, runs);
    console.log(`  ${name}: image AUROC of the mean score ${aurocOf(results[name].scores, results[name].labels).toFixed(3)}`);
  }
  const labels = results[names[0]].labels;
  console.log('\n| A | B | AUROC A − B | 95 % interval | share of resamples ≤ 0 |\n|---|---|---|---|---|');
  const pairs = [];
  for (let i = 0; i < names.length; i++)
    for (let j = i + 1; j < names.length; j++) {
      const r = pairedBootstrap(results[names[j]].scores, results[names[i]].scores, labels, boot);
      pairs.push({ a: names[j], b: names[i], ...r });
      console.log(
        `| ${names[j]} | ${names[i]} | ${r.diff >= 0 ? '+' : ''}${r.diff.toFixed(3)} | ${r.lo.toFixed(3)} … ${r.hi.toFixed(3)} | ${r.atMostZero.toFixed(3)} |`,
      );
    }
  if (out) await writeFileAtomic(out, JSON.stringify({ data, runs, boot, date: new Date().toISOString(), results, pairs }, null, 1) + '\n');
}

if (process.argv[1]?.endsWith('paired.js'))
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
