// Image AUROC with the training set's good images as extra held-out good test images (K-fold):
// tire has 25 good test images, so its test AUROC has a standard error of 0.04 from the test set
// alone. Each fold fits on the other folds' training images and scores its own held-out good images,
// the good test images and the defective test images. A fold's AUROC compares its good images
// (held out + test) with the defects, all scored by the fold's model; the estimate is the mean over
// folds. A stratified bootstrap over images (defects, test goods, each fold's held-out goods) gives
// intervals, paired across settings. Held-out goods are only a fair stand-in for test goods if they
// score alike: `test vs held-out goods` (an AUROC, 0.5 when alike) reports it, with a warning when
// its interval excludes 0.5. The intervals treat the fitted models as fixed (no coreset-seed or
// fold-split variance), and the int8 calibration sees all training images, held-out ones included.
//   npm run heldout -- --data DIR --settings v2,inception_v3/384/none/int8/0/0.01 [--folds 5] [--runs 1] [--boot 2000] [--out FILE]
import * as os from 'node:os';
import * as path from 'node:path';
import { loadDataset, type Dataset } from '../../src/data/dataset.js';
import type { Extractor } from '../../src/model/extract.js';
import { FeatureStore } from '../../src/memory/index.js';
import { bankFromStore, scoreFeatures } from '../../src/model/bank.js';
import { DEFAULT_PRESET, DEFAULT_SCORING } from '../../src/model/config.js';
import { Rng, permutation } from '../../src/util/rng.js';
import { writeFileAtomic } from '../../src/util/atomic.js';
import type { PatchFeatures } from '../../src/types.js';
import { extractorFor, presetNamed } from '../lib/settings.js';
import { arg } from '../lib/args.js';
import { aurocOf, percentileInterval, type Interval } from '../lib/bootstrap.js';

/** Scores of one setting: `fold[k]` scores held-out goods `heldout[k]` (training indices), and every test image. */
export interface FoldScores {
  /** Training images held out by each fold. */
  heldout: number[][];
  /** Per fold: score of each held-out good (in `heldout[k]` order). */
  heldoutScores: number[][];
  /** Per fold: score of each test image (in test order). */
  testScores: number[][];
  /** Test labels (0 good, 1 defective). */
  labels: number[];
}

/** Which images a resample takes: defective and good test images (indices), and each fold's held-out goods (positions). */
export interface Draw {
  bad: number[];
  good: number[];
  heldout: number[][];
}

export const identityDraw = (s: FoldScores): Draw => ({
  bad: s.labels.flatMap((l, i) => (l === 1 ? [i] : [])),
  good: s.labels.flatMap((l, i) => (l === 0 ? [i] : [])),
  heldout: s.heldout.map((h) => h.map((_, j) => j)),
});

/**
 * Mean over folds of a fold's AUROC. `goods`: which good images count (held-out training goods,
 * good test images, or both); `testVsHeldout` instead gives the AUROC of good test images against
 * held-out goods (0.5 when they score alike).
 */
export function foldAuroc(s: FoldScores, d: Draw, goods: 'both' | 'test' | 'heldout' | 'testVsHeldout'): number {
  let sum = 0;
  for (let k = 0; k < s.heldout.length; k++) {
    const t = s.testScores[k],
      h = d.heldout[k].map((j) => s.heldoutScores[k][j]);
    const g = d.good.map((i) => t[i]);
    const pos = goods === 'testVsHeldout' ? g : d.bad.map((i) => t[i]);
    const neg = goods === 'testVsHeldout' ? h : goods === 'both' ? [...h, ...g] : goods === 'test' ? g : h;
    sum += aurocOf([...neg, ...pos], [...neg.map(() => 0), ...pos.map(() => 1)]);
  }
  return sum / s.heldout.length;
}

/** A stratified resample: defects, test goods and each fold's held-out goods drawn with replacement. */
export function resample(d: Draw, rng: Rng): Draw {
  const pick = (xs: number[]) => xs.map(() => xs[rng.int(xs.length)]);
  return { bad: pick(d.bad), good: pick(d.good), heldout: d.heldout.map(pick) };
}

/** 95 % interval of `stat` over `boot` resamples (the same draws for every caller with the same seed). */
export function interval(base: Draw, boot: number, stat: (d: Draw) => number, seed = 0): Interval {
  const rng = new Rng(seed);
  return percentileInterval(Float64Array.from({ length: boot }, () => stat(resample(base, rng))));
}

/** Training indices of each fold: a seeded shuffle dealt round-robin. */
export function folds(n: number, k: number, seed = 0): number[][] {
  const order = Array.from(permutation(n, new Rng(seed)));
  return Array.from({ length: k }, (_, f) => order.filter((_, i) => i % k === f).sort((a, b) => a - b));
}

export async function featuresOf(ex: Extractor, files: string[]): Promise<PatchFeatures[]> {
  const out: PatchFeatures[] = [];
  for await (const e of ex.extractFiles(files)) out.push(e.features);
  return out;
}

/** One setting's scores; every setting gets the same dataset and folds, which is what pairs them. */
async function scoresOf(ds: Dataset, heldout: number[][], name: string, runs: number): Promise<FoldScores & { seconds: number }> {
  const t0 = Date.now();
  const p = presetNamed(name);
  const ex = await extractorFor(p, ds.train);
  const train = await featuresOf(ex, ds.train);
  const test = await featuresOf(
    ex,
    ds.test.map((t) => t.file),
  );
  await ex.release();
  const s: FoldScores = { heldout, heldoutScores: [], testScores: [], labels: ds.test.map((t) => t.label) };
  for (const out of heldout) {
    const skip = new Set(out);
    const store = new FeatureStore({ seed: 0, inMemory: true });
    try {
      for (const [i, f] of train.entries()) if (!skip.has(i)) await store.append(f);
      const h = out.map(() => 0),
        t = test.map(() => 0);
      for (let r = 0; r < runs; r++) {
        const fb = await bankFromStore(store, { ratio: p.ratio, seed: r, scoring: DEFAULT_SCORING });
        for (const [j, i] of out.entries()) h[j] += (await scoreFeatures(train[i], fb, DEFAULT_SCORING)).score / runs;
        for (const [i, f] of test.entries()) t[i] += (await scoreFeatures(f, fb, DEFAULT_SCORING)).score / runs;
        await fb.nn.release();
      }
      s.heldoutScores.push(h);
      s.testScores.push(t);
    } finally {
      store.close();
    }
    process.stdout.write('.');
  }
  return { ...s, seconds: (Date.now() - t0) / 1000 };
}

const f3 = (x: number) => x.toFixed(3);
const signed = (x: number) => (x >= 0 ? '+' : '') + f3(x);

async function main(): Promise<void> {
  const data = arg('data', path.resolve('..', 'shared', 'datasets', 'mvtec3d_tire'));
  const names = arg('settings', DEFAULT_PRESET).split(',');
  const [k, runs, boot] = ['folds', 'runs', 'boot'].map((n, i) => {
    const v = Number(arg(n, ['5', '1', '2000'][i]));
    if (!(Number.isInteger(v) && v >= (n === 'folds' ? 2 : 1)))
      throw new Error(`Expected a positive integer${n === 'folds' ? ' ≥ 2' : ''} for --${n} but received ${JSON.stringify(arg(n, ''))}`);
    return v;
  });
  const out = arg('out', '');
  console.log(
    `${data}: ${names.join(' | ')}; ${k} folds, ${runs} run(s) each, ${boot} resamples; load ${os.loadavg()[0].toFixed(1)}, ${new Date().toISOString()}`,
  );
  const ds = await loadDataset(data);
  if (k > ds.train.length) throw new Error(`Expected --folds at most the ${ds.train.length} training images but received ${k}`);
  const heldout = folds(ds.train.length, k);
  const results: Record<string, FoldScores & { seconds: number }> = {};
  const warnings: string[] = [];
  console.log(
    '\n| setting | AUROC, held-out + test goods | test goods only | held-out goods only | test vs held-out goods | seconds |\n|---|---|---|---|---|---|',
  );
  for (const name of names) {
    const s = (results[name] = await scoresOf(ds, heldout, name, runs));
    const base = identityDraw(s);
    const [both, test, held, alike] = (['both', 'test', 'heldout', 'testVsHeldout'] as const).map((g) => ({
      value: foldAuroc(s, base, g),
      ...interval(base, boot, (d) => foldAuroc(s, d, g)),
    }));
    const cell = (c: typeof both) => `${f3(c.value)} (${f3(c.lo)} … ${f3(c.hi)})`;
    console.log(`\r| ${name} | ${cell(both)} | ${cell(test)} | ${cell(held)} | ${cell(alike)} | ${s.seconds.toFixed(0)} |`);
    if (alike.lo > 0.5 || alike.hi < 0.5)
      warnings.push(
        `warning: ${name}: the good test images score unlike the held-out goods (interval excludes 0.5), so the pooled figures are biased; compare on test goods only`,
      );
  }
  for (const w of warnings) console.log(w);
  const pairs = [];
  if (names.length > 1) console.log('\n| A | B | A − B, held-out + test goods | 95 % interval | share ≤ 0 |\n|---|---|---|---|---|');
  for (let i = 0; i < names.length; i++)
    for (let j = i + 1; j < names.length; j++) {
      const [a, b] = [results[names[j]], results[names[i]]];
      const diff = (d: Draw) => foldAuroc(a, d, 'both') - foldAuroc(b, d, 'both');
      const base = identityDraw(a);
      const r = { a: names[j], b: names[i], diff: diff(base), ...interval(base, boot, diff) };
      pairs.push(r);
      console.log(`| ${r.a} | ${r.b} | ${signed(r.diff)} | ${f3(r.lo)} … ${f3(r.hi)} | ${r.atMostZero.toFixed(3)} |`);
    }
  if (out) await writeFileAtomic(out, JSON.stringify({ data, folds: k, runs, boot, date: new Date().toISOString(), results, pairs }, null, 1) + '\n');
}

if (process.argv[1]?.endsWith('heldout.js'))
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
