// `npm run accuracy`: the accuracy study. Runs the eval protocol (features once, N coreset runs with
// seeds 0..N-1) over a grid of settings on ../shared screw and tire, and appends each cell's result
// to a JSON file keyed by the cell's fingerprint, so a rerun skips the cells already done.
//
//   npm run accuracy                                  # the exploration grid, 3 runs, most promising first
//   npm run accuracy -- --grid final                  # the default preset, 7 runs, both datasets
//   npm run accuracy -- --cell dataset=tire,resize=320,crop=none,precision=int8 --runs 1
//   npm run accuracy -- --table                       # print what is recorded, run nothing
//
// Options: --runs N, --datasets screw,tire, --out FILE (default bench/results/accuracy/cells.json),
// --max-cells N. Set PATCHCORE_SHARED when ../shared is elsewhere. Run it under `nice`: it is heavy.
import { existsSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadDataset } from '../../src/data/dataset.js';
import { createExtractor, type Extractor } from '../../src/model/extract.js';
import { evaluateFeatures, extractEvalFeatures, type EvalFeatures } from '../../src/model/evaluate.js';
import { loadBackbone, type Backbone } from '../../src/backbone/index.js';
import { onnxBackbone } from '../../src/backbone/backbone.js';
import { nsfwjsWithLayers } from '../../src/backbone/nsfwjs.js';
import { DEFAULT_SCORING, PRESETS, DEFAULT_PRESET } from '../../src/model/config.js';
import { writeFileAtomic } from '../../src/util/atomic.js';
import { EnsembleExtractor, withAugment, type Augment } from '../lib/accuracy-variants.js';
import { arg } from '../lib/args.js';

const SHARED = process.env.PATCHCORE_SHARED ?? path.resolve(process.cwd(), '..', 'shared');
const DATASETS: Record<string, string> = { screw: 'mvtec_screw', tire: 'mvtec3d_tire' };

export interface Setting {
  /** one id, or two joined by '+' for an ensemble */
  backbone: string;
  /** other taps 'A,B' (single nsfwjs backbone only); '' = the registered pair */
  layers: string;
  resize: number;
  crop: number | 'none';
  dim: number;
  precision: 'fp32' | 'int8';
  augment: Augment;
  ratio: number;
}

interface Cell {
  dataset: string;
  setting: Setting;
  runs: number;
}

const BASE: Setting = { backbone: 'inception_v3', layers: '', resize: 256, crop: 224, dim: 0, precision: 'fp32', augment: 'none', ratio: 0.1 };

/** The preset as a study setting. */
function presetSetting(name: string): Setting {
  const p = PRESETS[name];
  return { ...BASE, backbone: p.backbone, resize: p.preprocess.resize, crop: p.preprocess.crop, dim: p.featureDim, precision: p.precision, ratio: p.ratio };
}

/** Exploration order: the most promising cells first (see docs/journal/default-preset.md for why). */
function exploreGrid(): [string, Partial<Setting>][] {
  const n = { crop: 'none' as const };
  return [
    ['tire', { ...n, resize: 320, precision: 'int8' }],
    ['screw', { ...n, resize: 320, precision: 'int8' }],
    ['tire', { ...n, resize: 320, backbone: 'inception_v3+mobilenet_v2', precision: 'int8' }],
    ['screw', { ...n, resize: 320, backbone: 'inception_v3+mobilenet_v2', precision: 'int8' }],
    ['tire', { ...n, resize: 256 }],
    ['tire', { ...n, resize: 256, backbone: 'mobilenet_v2_mid' }],
    ['screw', { ...n, resize: 256, backbone: 'mobilenet_v2_mid' }],
    ['tire', { ...n, resize: 384, precision: 'int8' }],
    ['screw', { ...n, resize: 320, precision: 'int8', dim: 512 }],
    ['tire', { ...n, resize: 320, precision: 'int8', dim: 512 }],
    ['tire', { ...n, resize: 320, precision: 'int8', layers: 'mixed1,mixed4' }],
    ['screw', { ...n, resize: 256, augment: 'rot4', ratio: 0.025 }],
    ['tire', {}],
    ['screw', {}],
  ];
}

function parseCell(spec: string): [string, Partial<Setting>] {
  const kv = Object.fromEntries(spec.split(',').map((s) => s.split('=') as [string, string]));
  const { dataset, ...rest } = kv;
  const s: Partial<Setting> = {};
  for (const [k, v] of Object.entries(rest)) {
    if (k === 'layers') s.layers = v.replace(/\+/g, ',');
    else if (['resize', 'dim', 'ratio'].includes(k)) (s as Record<string, number>)[k] = Number(v);
    else if (k === 'crop') s.crop = v === 'none' ? 'none' : Number(v);
    else if (k in BASE) (s as Record<string, string>)[k] = v;
    else throw new Error(`unknown cell key ${k}`);
  }
  return [dataset, s];
}

/**
 * The resize the cells ran with. Cells recorded before release 0.2.0 resized with libvips
 * (sharp, 'linear'); since then both hosts use image/resize.ts (Pillow's bilinear). Part of the key.
 */
const RESAMPLE = 'pillow-bilinear';

export function fingerprint(c: Cell): string {
  const s = c.setting;
  return [c.dataset, s.backbone, s.layers || '-', `${s.resize}/${s.crop}`, `dim${s.dim}`, s.precision, s.augment, `r${s.ratio}`, `x${c.runs}`, RESAMPLE].join(
    ' ',
  );
}

async function backboneOf(id: string, layers: string): Promise<Backbone> {
  if (!layers) return loadBackbone(id);
  const b = await nsfwjsWithLayers(id, layers.split(',') as [string, string]);
  return onnxBackbone(b.spec, b.path, b.hash);
}

async function extractorFor(train: string[], s: Setting): Promise<Extractor> {
  const setup = { preprocess: { resize: s.resize, crop: s.crop }, background: null, featureDim: s.dim, precision: s.precision, batchSize: 8 };
  const ids = s.backbone.split('+');
  const parts = await Promise.all(ids.map(async (id) => createExtractor(train, await backboneOf(id, ids.length === 1 ? s.layers : ''), setup)));
  const ex = parts.length === 2 ? new EnsembleExtractor([parts[0], parts[1]]) : parts[0];
  return withAugment(ex, s.augment);
}

type Store = Record<string, Record<string, unknown>>;

function readStore(file: string): Store {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Store) : {};
}

/** One line per stage and per quarter of it, with the time since the cell started. */
function makeProgress(): (stage: string, done: number, total: number) => void {
  const t0 = Date.now();
  let last = '';
  return (stage, done, total) => {
    const q = `${stage} ${Math.floor((4 * done) / total)}`;
    if (q === last) return;
    last = q;
    console.log(`    ${stage} ${done}/${total}  ${((Date.now() - t0) / 1000).toFixed(0)} s, load ${os.loadavg()[0].toFixed(1)}`);
  };
}

async function runCell(c: Cell): Promise<Record<string, unknown>> {
  const ds = await loadDataset(path.join(SHARED, 'datasets', DATASETS[c.dataset]));
  const load0 = os.loadavg()[0];
  const progress = makeProgress();
  const t0 = Date.now();
  const ex = await extractorFor(ds.train, c.setting);
  const ef: EvalFeatures = await extractEvalFeatures(ds, ex, progress);
  try {
    const r = await evaluateFeatures(ef, { runs: c.runs, ratio: c.setting.ratio, seed: 0, scoring: DEFAULT_SCORING, progress });
    r.close(); // the maps on disk are not used
    const m = (k: keyof typeof r.metrics) => ({ mean: r.metrics[k].mean, std: r.metrics[k].std, runs: r.metrics[k].runs });
    const g = ef.tests[0].geometry;
    return {
      dataset: c.dataset,
      setting: c.setting,
      resample: RESAMPLE,
      runs: c.runs,
      test: { good: ef.tests.filter((t) => t.item.label === 0).length, defect: ef.tests.filter((t) => t.item.label === 1).length },
      image_auroc: m('image_auroc'),
      pixel_auroc: m('pixel_auroc'),
      aupro: m('aupro'),
      per_defect_image: Object.fromEntries(Object.entries(r.per_defect).map(([d, v]) => [d, v.image_auroc.mean])),
      pixelRegion: `${g.cropW}x${g.cropH} of the ${g.resizedW}x${g.resizedH} resized image (${g.cropW === g.resizedW && g.cropH === g.resizedH ? 'whole image' : 'center crop'})`,
      seconds: { total: (Date.now() - t0) / 1000, features: r.seconds.features, perRun: r.seconds.perRun },
      load: [load0, os.loadavg()[0]],
      date: new Date().toISOString(),
    };
  } finally {
    ef.close();
  }
}

const f3 = (x: unknown) => (typeof x === 'number' ? x.toFixed(3) : '—');

/** Good and defective test images of the shared sets (cells recorded before the counts were). */
const TEST_COUNTS: Record<string, { good: number; defect: number }> = { screw: { good: 41, defect: 119 }, tire: { good: 25, defect: 87 } };

/**
 * Standard error of an AUROC from the test set's size alone (Hanley & McNeil, Radiology 1982):
 * the spread a different draw of test images would give, which the runs' seed spread does not show.
 */
export function aurocStandardError(a: number, positives: number, negatives: number): number {
  const q1 = a / (2 - a),
    q2 = (2 * a * a) / (1 + a);
  return Math.sqrt((a * (1 - a) + (positives - 1) * (q1 - a * a) + (negatives - 1) * (q2 - a * a)) / (positives * negatives));
}

export function table(store: Store): string {
  const lines = [
    '| dataset | backbone | layers | resize/crop | dim | precision | augment | coreset | resize kernel | runs | image AUROC | test-set SE | pixel AUROC | AUPRO | features s | s/run | load |',
    '|' + '---|'.repeat(17),
  ];
  for (const v of Object.values(store)) {
    const s = v.setting as Setting;
    const mm = (k: string) => v[k] as { mean: number | null; std: number | null };
    const ms = (k: string) => (mm(k).mean === null ? '—' : `${f3(mm(k).mean)} ± ${f3(mm(k).std)}`);
    const sec = v.seconds as { features: number; perRun: number[] };
    const per = sec.perRun.reduce((a, b) => a + b, 0) / sec.perRun.length;
    const load = (v.load as number[]).map((x) => x.toFixed(1)).join('–');
    const n = (v.test as { good: number; defect: number } | undefined) ?? TEST_COUNTS[v.dataset as string];
    const se = aurocStandardError(mm('image_auroc').mean ?? 0.5, n.defect, n.good);
    lines.push(
      `| ${v.dataset} | ${s.backbone} | ${s.layers || 'default'} | ${s.resize}/${s.crop} | ${s.dim || 'all'} | ${s.precision} | ${s.augment} | ${s.ratio} | ${(v.resample as string | undefined) ?? 'libvips linear'} | ${v.runs} | ${ms('image_auroc')} | ${f3(se)} | ${ms('pixel_auroc')} | ${ms('aupro')} | ${sec.features.toFixed(0)} | ${per.toFixed(0)} | ${load} |`,
    );
  }
  return lines.join('\n');
}

async function main(argv: string[]): Promise<void> {
  const out = arg('out', path.join('bench', 'results', 'accuracy', 'cells.json'), argv);
  if (argv.includes('--table')) return void console.log(table(readStore(out)));
  const grid = arg('grid', 'explore', argv);
  const runs = Number(arg('runs', grid === 'final' ? '7' : '3', argv));
  const datasets = arg('datasets', 'screw,tire', argv).split(',');
  const cellArgs = argv.flatMap((a, i) => (a === '--cell' ? [argv[i + 1]] : []));
  const listed: [string, Partial<Setting>][] = cellArgs.length
    ? cellArgs.map(parseCell)
    : grid === 'final'
      ? datasets.map((d) => [d, presetSetting(DEFAULT_PRESET)])
      : exploreGrid();
  const cells: Cell[] = listed.filter(([d]) => datasets.includes(d)).map(([dataset, s]) => ({ dataset, setting: { ...BASE, ...s }, runs }));
  const max = Number(arg('max-cells', 'Infinity', argv));
  let done = 0;
  for (const c of cells) {
    const key = fingerprint(c);
    if (readStore(out)[key]) {
      console.log(`skip (recorded): ${key}`);
      continue;
    }
    if (done++ >= max) break;
    console.log(`run: ${key}  (load ${os.loadavg()[0].toFixed(1)}, ${new Date().toISOString()})`);
    const r = await runCell(c);
    const store = readStore(out); // re-read: another invocation may have appended meanwhile
    store[key] = r;
    await writeFileAtomic(out, JSON.stringify(store, null, 1) + '\n');
    const im = r.image_auroc as { mean: number };
    const px = r.pixel_auroc as { mean: number | null };
    console.log(`  image ${f3(im.mean)} pixel ${f3(px.mean)} in ${(r.seconds as { total: number }).total.toFixed(0)} s`);
  }
  console.log(table(readStore(out)));
}

if (process.argv[1]?.endsWith('accuracy.js'))
  main(process.argv.slice(2)).catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
