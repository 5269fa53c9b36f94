// The default's grid: on each set, each extraction setting's features are computed once and every
// coreset variant (ratio × method) runs N times on them (seeds 0..N−1). Each cell records the mean
// ± run spread of every metric and each test image's mean score, so any two cells of a set can be
// compared paired (stratified bootstrap of the image AUROC difference, bench/studies/paired.ts).
//   npm run bench -- grid --set tire --extract inception_v3/352/none/int8 --variants 0.005:auto,0.01:exact [--runs 7] [--seed 0]
// A variant is ratio:method[:stretch][:sigma=N][:fg=MODE]; stretch places the map's cells as models before
// mapStride did; sigma is the map's Gaussian (default 4 px at the backbone input); fg is --foreground
// (off, auto, pca; same seeds, so a cell with fg is paired run by run with the one without).
//   npm run bench -- grid --table [--base inception_v3/352/none/int8@0.005:auto]
// Sets: screw, tire, mpdd (../shared/datasets), tex-dust, tex-tread, tex-plate (bench/data/texture-tiles.ts) or a folder path. Results append to
// bench/results/grid/cells.json (--out), keyed by set, extraction, variant and runs; recorded cells are skipped.
import { existsSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadDataset } from '../../src/data/dataset.js';
import { evaluateFeatures, extractEvalFeatures, type MetricSummary } from '../../src/model/evaluate.js';
import { DEFAULT_SCORING } from '../../src/model/config.js';
import type { CoresetMethod } from '../../src/memory/index.js';
import type { ForegroundMode } from '../../src/foreground/mask.js';
import { writeFileAtomic } from '../../src/util/atomic.js';
import { extractorFor, presetNamed } from '../lib/settings.js';
import { arg } from '../lib/args.js';
import { pairedBootstrap } from './paired.js';
import { aurocStandardError } from './accuracy.js';

const SHARED = process.env.PATCHCORE_SHARED ?? path.resolve(process.cwd(), '..', 'shared');
const SETS: Record<string, string> = { screw: 'mvtec_screw', tire: 'mvtec3d_tire', mpdd: 'mpdd_plate' };
/** bench/data/texture-tiles.ts's output: sets tex-dust, tex-tread, tex-plate. */
const TILES = process.env.PATCHCORE_TILES ?? '/tmp/patchcore-texture-tiles';
const METRICS = ['image_auroc', 'pixel_auroc', 'aupro', 'threshold_fpr', 'threshold_recall'] as const;

interface CellRecord {
  set: string;
  extract: string;
  variant: string;
  runs: number;
  metrics: Record<(typeof METRICS)[number], MetricSummary>;
  /** Each test image's score, averaged over the runs, in test order. */
  scores: number[];
  labels: number[];
  methods: string[];
  /** --foreground's resolution (fit's line), when the variant sets fg. */
  foreground?: string;
  seconds: { features: number; perRun: number[] };
  load: number[];
  date: string;
}
type Store = Record<string, CellRecord>;

const readStore = (file: string): Store => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Store) : {});
const keyOf = (set: string, extract: string, variant: string, runs: number, seed = 0) =>
  `${set} ${extract}@${variant} x${runs}${seed ? ` from seed ${seed}` : ''}`;

async function runSet(set: string, extract: string, variants: string[], runs: number, out: string, seed: number): Promise<void> {
  const todo = variants.filter((v) => !readStore(out)[keyOf(set, extract, v, runs, seed)]);
  if (todo.length === 0) return void console.log(`${set} ${extract}: all recorded`);
  const p = presetNamed(extract);
  const ds = await loadDataset(SETS[set] ? path.join(SHARED, 'datasets', SETS[set]) : set.startsWith('tex-') ? path.join(TILES, set.slice(4)) : set);
  const load0 = os.loadavg()[0];
  console.log(`${set} ${extract}: extracting (load ${load0.toFixed(1)}, ${new Date().toISOString()})`);
  const ex = await extractorFor(p, ds.train);
  const ef = await extractEvalFeatures(ds, ex);
  try {
    for (const v of todo) {
      const [ratio, method, ...more] = v.split(':');
      // 'stretch': the map's cells spread over the input, as models before mapStride (scoring/anomaly-map.ts)
      const stretch = more.includes('stretch');
      const sigma = Number(more.find((m) => m.startsWith('sigma='))?.slice(6) ?? DEFAULT_SCORING.sigma);
      const foreground = (more.find((m) => m.startsWith('fg='))?.slice(3) ?? 'off') as ForegroundMode;
      const r = await evaluateFeatures(stretch ? { ...ef, mapStride: undefined as unknown as number } : ef, {
        runs,
        ratio: Number(ratio),
        seed,
        scoring: { ...DEFAULT_SCORING, sigma },
        coresetMethod: (method ?? 'auto') as CoresetMethod,
        foreground,
      });
      const rec: CellRecord = {
        set,
        extract,
        variant: v,
        runs,
        metrics: Object.fromEntries(METRICS.map((m) => [m, r.metrics[m]])) as CellRecord['metrics'],
        scores: r.tests.map((t) => t.scores.reduce((a, b) => a + b, 0) / t.scores.length),
        labels: r.tests.map((t) => t.item.label),
        methods: [...new Set(r.coresetNotes ?? [])],
        ...(r.foreground ? { foreground: r.foreground.reason } : {}),
        seconds: r.seconds,
        load: [load0, os.loadavg()[0]],
        date: new Date().toISOString(),
      };
      r.close();
      const store = readStore(out); // re-read: another invocation may have appended meanwhile
      store[keyOf(set, extract, v, runs, seed)] = rec;
      await writeFileAtomic(out, JSON.stringify(store) + '\n');
      console.log(`  ${v}: ${line(rec)}${rec.foreground ? ` (${rec.foreground})` : ''}`);
    }
  } finally {
    ef.close();
  }
}

const f3 = (x: number | null) => (x === null ? '—' : x.toFixed(3));
const ms = (m: MetricSummary) => (m.mean === null ? '—' : `${f3(m.mean)} ± ${f3(m.std)}`);
function line(r: CellRecord): string {
  const per = r.seconds.perRun.reduce((a, b) => a + b, 0) / r.seconds.perRun.length;
  return `image ${ms(r.metrics.image_auroc)} pixel ${ms(r.metrics.pixel_auroc)} aupro ${ms(r.metrics.aupro)} fpr ${ms(r.metrics.threshold_fpr)} recall ${ms(r.metrics.threshold_recall)}; ${r.seconds.features.toFixed(0)} s features, ${per.toFixed(0)} s/run`;
}

/** Run-by-run differences of a metric against the base (same seeds: paired), as mean (min…max). */
function perRunDelta(a: MetricSummary, b: MetricSummary): string {
  if (a.mean === null || b.mean === null) return 'n/a';
  const d = a.runs.map((v, i) => v - b.runs[i]);
  const sign = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(4)}`;
  return `${sign(d.reduce((x, y) => x + y, 0) / d.length)} (${sign(Math.min(...d))}…${sign(Math.max(...d))})`;
}

/** One table per set; with a base cell, each row's paired image AUROC difference against it. */
export function tables(store: Store, base?: string): string {
  const out: string[] = [];
  for (const set of [...new Set(Object.values(store).map((r) => r.set))]) {
    const rows = Object.values(store).filter((r) => r.set === set);
    const b = base ? rows.find((r) => `${r.extract}@${r.variant}` === base) : undefined;
    out.push(
      `\n### ${set}\n`,
      '| extraction | coreset ratio:method | runs | image AUROC ± runs | test-set SE | pixel AUROC | AUPRO | false alarms at fit threshold | recall | paired Δ image vs base (95 %) | per-run Δ pixel / AUPRO vs base (mean, min…max) | features s | s/run | load |',
      `|${'---|'.repeat(14)}`,
    );
    for (const r of rows) {
      const good = r.labels.filter((l) => l === 0).length,
        bad = r.labels.length - good;
      const se = aurocStandardError(r.metrics.image_auroc.mean ?? 0.5, bad, good);
      let d = '';
      if (b && b !== r && b.labels.length === r.labels.length) {
        const p = pairedBootstrap(r.scores, b.scores, r.labels, 2000);
        d = `${p.diff >= 0 ? '+' : ''}${p.diff.toFixed(3)} (${p.lo.toFixed(3)} … ${p.hi.toFixed(3)})`;
      } else if (b === r) d = 'base';
      const per = r.seconds.perRun.reduce((a, c) => a + c, 0) / r.seconds.perRun.length;
      const m = r.metrics;
      const runs = b && b !== r && b.runs === r.runs ? (['pixel_auroc', 'aupro'] as const).map((k) => perRunDelta(m[k], b.metrics[k])).join(' / ') : '';
      out.push(
        `| ${r.extract} | ${r.variant} (${r.methods.join(', ').replace(/\|/g, '/')}) | ${r.runs} | ${ms(m.image_auroc)} | ${f3(se)} | ${ms(m.pixel_auroc)} | ${ms(m.aupro)} | ${ms(m.threshold_fpr)} | ${ms(m.threshold_recall)} | ${d} | ${runs} | ${r.seconds.features.toFixed(0)} | ${per.toFixed(0)} | ${r.load.map((x) => x.toFixed(1)).join('–')} |`,
      );
    }
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const out = arg('out', path.join('bench', 'results', 'grid', 'cells.json'));
  if (process.argv.includes('--table')) return void console.log(tables(readStore(out), arg('base', '') || undefined));
  const runs = Number(arg('runs', '7'));
  // runs use seeds seed..seed+runs−1: more runs of a recorded cell without redoing its seeds
  const seed = Number(arg('seed', '0'));
  if (!(Number.isInteger(runs) && runs >= 1)) throw new Error(`Expected a positive integer for --runs but received ${arg('runs', '')}`);
  const sets = arg('set', 'mpdd,tire,screw').split(',');
  const extracts = arg('extract', 'inception_v3/352/none/int8').split(',');
  const variants = arg('variants', '0.005:auto').split(',');
  for (const e of extracts) for (const s of sets) await runSet(s, e, variants, runs, out, seed);
}

if (process.argv[1]?.endsWith('grid.js'))
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
