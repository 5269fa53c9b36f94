// Side-by-side benchmark: our pipeline vs a PyTorch reference (bench/speed/reference/patchcore_ref.py)
// on the same images, same CPU, runs alternated (ours/ref, ref/ours, ...), medians reported.
//
// Usage: npm run bench -- side-by-side [--data DIR] [--train 60] [--test 40] [--ratios 0.1,0.01]
//                                        [--rounds 3] [--threads 2] [--python /usr/bin/python3]
//                                        [--precision fp32,int8]
// Both sides use wide_resnet50_2 with RANDOM weights (no download): speed only, scores are meaningless.
// Each side runs in its own child process, so peak RSS is that process's maxRSS.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { arg as argOf } from '../lib/args.js';

const HERE = path.dirname(fileURLToPath(import.meta.url)); // dist/bench/speed
const ROOT = path.resolve(HERE, '..', '..', '..');
const REF_SCRIPT = path.join(ROOT, 'bench', 'speed', 'reference', 'patchcore_ref.py');
const APT_PACKAGES = ['python3-torch', 'python3-torchvision', 'python3-faiss', 'python3-scipy', 'python3-pil'];

type Row = Record<string, number | string | null | number[]>;

interface Opts {
  data: string;
  train: number;
  test: number;
  ratios: number[];
  rounds: number;
  threads: number;
  batch: number;
  python: string;
  precisions: string[];
}

function parseOpts(argv: string[]): Opts {
  const arg = (name: string, def: string): string => argOf(name, def, argv);
  return {
    data: arg('data', path.join(process.env.PATCHCORE_SHARED ?? path.resolve(process.cwd(), '..', 'shared'), 'datasets', 'mvtec_screw')),
    train: Number(arg('train', '60')),
    test: Number(arg('test', '40')),
    ratios: arg('ratios', '0.1,0.01').split(',').map(Number),
    rounds: Number(arg('rounds', '3')),
    threads: Number(arg('threads', '2')),
    batch: Number(arg('batch', '8')),
    python: arg('python', '/usr/bin/python3'),
    precisions: arg('precision', 'fp32,int8').split(','),
  };
}

const pngs = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => /\.(png|jpe?g|bmp)$/i.test(f))
    .sort()
    .map((f) => path.join(dir, f));

/** First n train/good; test = first n/2 of test/good + first n/2 of the defect folders (sorted by name). */
export function pickFiles(data: string, nTrain: number, nTest: number): { train: string[]; test: string[] } {
  const train = pngs(path.join(data, 'train', 'good')).slice(0, nTrain);
  const half = Math.floor(nTest / 2);
  const good = pngs(path.join(data, 'test', 'good')).slice(0, half);
  const defectDirs = readdirSync(path.join(data, 'test'))
    .filter((d) => d !== 'good')
    .sort();
  const defect = defectDirs.flatMap((d) => pngs(path.join(data, 'test', d))).slice(0, nTest - good.length);
  return { train, test: [...good, ...defect] };
}

// ---------------------------------------------------------------- python side

/** Makes sure the reference's packages import; runs apt-get only if torch/torchvision are missing. */
export function ensurePython(python: string): void {
  const ok = spawnSync(python, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
  if (ok.status === 0) return;
  const cmd = ['apt-get', 'install', '-y', ...APT_PACKAGES];
  console.log(`[bench] ${python} cannot import torch/torchvision; running: ${cmd.join(' ')}`);
  const r = spawnSync(cmd[0], cmd.slice(1), { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`apt-get failed (exit ${r.status}); install ${APT_PACKAGES.join(' ')} by hand`);
}

function runChild(cmd: string, args: string[], label: string): Promise<Row> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('error', reject);
    p.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) {
        reject(new Error(`${label} exited ${code}\n${err.slice(-3000)}\n${out.slice(-1000)}`));
        return;
      }
      resolve(JSON.parse(last) as Row);
    });
  });
}

// ---------------------------------------------------------------- our side (child process)

async function oursChild(argv: string[]): Promise<void> {
  const arg = (name: string): string => argv[argv.indexOf(`--${name}`) + 1];
  const train = readFileSync(arg('train-list'), 'utf8').split('\n').filter(Boolean);
  const test = readFileSync(arg('test-list'), 'utf8').split('\n').filter(Boolean);
  const ratio = Number(arg('ratio'));
  const batch = Number(arg('batch'));
  const precision = arg('precision') as 'fp32' | 'int8';
  const warmup = 1;

  const { randomWrn50 } = await import('../lib/random-wrn50.js');
  const { PatchCore } = await import('../../src/model/patchcore.js');
  const { scoreFeatures } = await import('../../src/model/bank.js');
  const { usesNeighbourTable } = await import('../../src/scoring/scores.js');
  const { DEFAULT_SCORING } = await import('../../src/model/config.js');
  const { loadImage } = await import('../../src/image/load.js');
  const { anomalyMap } = await import('../../src/scoring/anomaly-map.js');

  const t = performance.now();
  const backbone = await randomWrn50();
  const initMs = performance.now() - t;

  // Stage boundaries inside PatchCore.fit from its progress events: the last 'features' event
  // fires after the last image's features are stored; the last 'coreset' event when selection ends.
  let featEnd = NaN;
  let coresetEnd = NaN;
  const scoring = { ...DEFAULT_SCORING };
  const t0 = performance.now();
  const model = await PatchCore.fit(train, backbone, {
    preprocess: { resize: 256, crop: 224 },
    background: null,
    featureDim: 0, // keep all 1536 dims, like the reference
    ratio,
    seed: 0,
    scoring,
    batchSize: batch,
    precision,
    progress: (stage, done, total) => {
      if (stage === 'features' && done === total) featEnd = performance.now();
      if (stage === 'coreset') coresetEnd = performance.now();
    },
  });
  const fitMs = performance.now() - t0;
  const featuresMs = featEnd - t0;
  const coresetMs = Number.isFinite(coresetEnd) ? coresetEnd - featEnd : null;

  // Predict, stage by stage (same definition as the reference: load+preprocess+features+NN+map).
  const stage = { load: [] as number[], feat: [] as number[], nn: [] as number[], map: [] as number[], total: [] as number[] };
  const scores: number[] = [];
  for (let i = -warmup; i < test.length; i++) {
    const f = test[Math.max(0, i)];
    const a = performance.now();
    const img = await loadImage(f);
    const b = performance.now();
    const e = await model.extractor.extract(img);
    const c = performance.now();
    const s = await scoreFeatures(e.features, model.fitted, scoring);
    const d = performance.now();
    anomalyMap(s.patches, e.geometry.cropW, e.geometry.cropH, scoring.sigma);
    const z = performance.now();
    if (i < 0) continue;
    stage.load.push(b - a);
    stage.feat.push(c - b);
    stage.nn.push(d - c);
    stage.map.push(z - d);
    stage.total.push(z - a);
    scores.push(s.score);
  }
  // Feature extraction split (first 10 test images): preprocess, backbone run, aggregation.
  const { aggregate } = await import('../../src/features/aggregate.js');
  const split = { prep: [] as number[], net: [] as number[], agg: [] as number[] };
  for (const f of test.slice(0, 10)) {
    const img = await loadImage(f);
    const a = performance.now();
    const p = await model.extractor.prepare(img);
    const b = performance.now();
    const [maps] = await model.extractor.backbone.run(p.tensor);
    const c = performance.now();
    aggregate(maps, { dim: model.config.featureDim });
    const d = performance.now();
    split.prep.push(b - a);
    split.net.push(c - b);
    split.agg.push(d - c);
  }
  // End to end through the public API: loadImage + model.predict (also builds mapOriginal, 512×512).
  const e2e: number[] = [];
  for (const f of test) {
    const a = performance.now();
    await model.predict(await loadImage(f));
    e2e.push(performance.now() - a);
  }

  // What the 'fit rest' is made of, re-timed on the fitted bank: NN graph + session, N_b table.
  const { NearestNeighbours, buildNeighbourTable } = await import('../../src/scoring/nn.js');
  const bank = model.fitted.bank;
  let a = performance.now();
  const nn2 = await NearestNeighbours.create(bank);
  const nnCreateMs = performance.now() - a;
  a = performance.now();
  await buildNeighbourTable(bank, bank.b ?? Math.min(scoring.b, bank.size), nn2);
  const neighbourTableMs = performance.now() - a;
  await nn2.release();

  const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
  const indexMs = fitMs - featuresMs - (coresetMs ?? 0);
  // fit also scores the training images for its threshold, which the reference does not: indexMs
  // less the NN graph and the N_b table (built in fit only for scorings that use it, not the default `nearest`)
  const trainScoringMs = indexMs - nnCreateMs - (usesNeighbourTable(scoring) ? neighbourTableMs : 0);
  const out: Row = {
    impl: 'patchcore-ts',
    precision,
    train: train.length,
    test: test.length,
    ratio,
    trainPatches: model.config.coreset.trainPatches,
    bankSize: model.fitted.bank.size,
    dim: model.fitted.bank.dim,
    backboneInitMs: initMs,
    featuresTotalMs: featuresMs,
    featuresPerImageMs: featuresMs / train.length,
    coresetMs,
    indexMs, // bank gather + NN graph + N_b table + training-image (threshold) scores
    fitMs,
    trainScoringMs,
    fitNoTrainScoringMs: fitMs - trainScoringMs, // the part of fit the reference also does: features, coreset, search index (+ N_b table)
    nnCreateMs,
    neighbourTableMs,
    predictLoadMsMean: mean(stage.load),
    predictFeaturesMsMean: mean(stage.feat),
    predictPrepMsMean: mean(split.prep),
    predictBackboneMsMean: mean(split.net),
    predictAggregateMsMean: mean(split.agg),
    nnPerImageMs: mean(stage.nn),
    mapPerImageMs: mean(stage.map),
    predictStagesP50Ms: percentile(stage.total, 50),
    predictStagesP95Ms: percentile(stage.total, 95),
    predictP50Ms: percentile(e2e, 50),
    predictP95Ms: percentile(e2e, 95),
    scores,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  };
  console.log(JSON.stringify(out));
}

/** numpy.percentile's default (linear interpolation), so both sides use one definition. */
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const pos = ((s.length - 1) * p) / 100;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

const median = (xs: number[]) => percentile(xs, 50);

// ---------------------------------------------------------------- table

interface Metric {
  label: string;
  key: string;
  unit: 'ms' | 's' | 'MB';
}

const METRICS: Metric[] = [
  { label: 'feature extraction, fit total', key: 'featuresTotalMs', unit: 's' },
  { label: 'feature extraction, per image (fit, batched)', key: 'featuresPerImageMs', unit: 'ms' },
  { label: 'feature extraction, per image (predict, batch 1)', key: 'predictFeaturesMsMean', unit: 'ms' },
  { label: '  of which preprocess (resize/crop/normalise)', key: 'predictPrepMsMean', unit: 'ms' },
  { label: '  of which backbone run', key: 'predictBackboneMsMean', unit: 'ms' },
  { label: '  of which aggregation (pool+upsample+concat)', key: 'predictAggregateMsMean', unit: 'ms' },
  { label: 'coreset selection', key: 'coresetMs', unit: 's' },
  { label: 'fit rest (ours: bank gather, NN graph, train scores; ref: faiss add)', key: 'indexMs', unit: 's' },
  { label: '  of which NN graph + session (re-timed)', key: 'nnCreateMs', unit: 's' },
  { label: '  N_b table, b=9 (re-timed; in fit only for neighbourhood/eq. 7 scoring)', key: 'neighbourTableMs', unit: 's' },
  { label: '  of which training-image scores + bank gather (rest)', key: 'trainScoringMs', unit: 's' },
  { label: 'fit total', key: 'fitMs', unit: 's' },
  { label: 'fit without training-image scores', key: 'fitNoTrainScoringMs', unit: 's' },
  { label: 'load+decode, per image', key: 'predictLoadMsMean', unit: 'ms' },
  { label: 'NN search, per image (784 queries)', key: 'nnPerImageMs', unit: 'ms' },
  { label: 'anomaly map, per image (224², σ=4)', key: 'mapPerImageMs', unit: 'ms' },
  { label: 'predict p50 (load→map)', key: 'predictP50Ms', unit: 'ms' },
  { label: 'predict p95 (load→map)', key: 'predictP95Ms', unit: 'ms' },
  { label: 'peak RSS', key: 'peakRssMB', unit: 'MB' },
];

function fmt(v: number | null, unit: Metric['unit']): string {
  if (v === null || !Number.isFinite(v)) return 'n/a';
  if (unit === 's') return `${(v / 1000).toFixed(2)} s`;
  if (unit === 'MB') return `${v.toFixed(0)} MB`;
  return v >= 100 ? `${v.toFixed(0)} ms` : `${v.toFixed(1)} ms`;
}

function printTable(rows: string[][]): void {
  const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  rows.forEach((r, i) => {
    console.log(r.map((v, c) => (c === 0 ? v.padEnd(w[c]) : v.padStart(w[c]))).join('  '));
    if (i === 0) console.log(w.map((n) => '-'.repeat(n)).join('  '));
  });
}

function medianOf(runs: Row[], key: string): number | null {
  const vs = runs.map((r) => r[key]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  return vs.length ? median(vs) : null;
}

export function machineLine(): string {
  const cpus = os.cpus();
  const load = os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  return (
    `machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ` +
    `node ${process.version}, ${new Date().toISOString()}, load avg ${load}`
  );
}

// ---------------------------------------------------------------- main

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const o = parseOpts(argv);
  if (!existsSync(o.data)) {
    console.log(`[bench] side-by-side skipped: dataset ${o.data} not found (--data DIR)`);
    return;
  }
  ensurePython(o.python);
  const { train, test } = pickFiles(o.data, o.train, o.test);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'pc-bench-'));
  const trainList = path.join(tmp, 'train.txt');
  const testList = path.join(tmp, 'test.txt');
  writeFileSync(trainList, train.join('\n') + '\n');
  writeFileSync(testList, test.join('\n') + '\n');
  const self = fileURLToPath(import.meta.url);
  console.log(machineLine());
  console.log(
    `[bench] side-by-side: ${train.length} train, ${test.length} test images from ${o.data}; ` +
      `wide_resnet50_2 random weights; ratios ${o.ratios.join(', ')}; fit batch ${o.batch}; ${o.rounds} alternating round(s) each; ${o.threads} threads`,
  );

  try {
    for (const ratio of o.ratios) {
      const oursBy: Record<string, Row[]> = Object.fromEntries(o.precisions.map((p) => [p, []]));
      const ref: Row[] = [];
      const runOne = (p: string) =>
        runChild(
          process.execPath,
          [self, '--child', 'ours', '--ratio', String(ratio), '--batch', String(o.batch), '--precision', p, '--train-list', trainList, '--test-list', testList],
          `ours ${p}`,
        ).then((r) => {
          oursBy[p].push(r);
          console.log(`[bench]   ours ${p}  fit ${fmt(r.fitMs as number, 's')}, predict p50 ${fmt(r.predictP50Ms as number, 'ms')}`);
        });
      const runOurs = async () => {
        for (const p of o.precisions) await runOne(p);
      };
      const runRef = () =>
        runChild(
          o.python,
          [
            REF_SCRIPT,
            '--ratio',
            String(ratio),
            '--threads',
            String(o.threads),
            '--batch',
            String(o.batch),
            '--train-list',
            trainList,
            '--test-list',
            testList,
          ],
          'reference',
        ).then((r) => {
          ref.push(r);
          console.log(`[bench]   ref   fit ${fmt(r.fitMs as number, 's')}, predict p50 ${fmt(r.predictP50Ms as number, 'ms')}`);
        });
      for (let round = 0; round < o.rounds; round++) {
        console.log(`[bench] ratio ${ratio}, round ${round + 1}/${o.rounds} (${round % 2 === 0 ? 'ours first' : 'reference first'})`);
        if (round % 2 === 0) {
          await runOurs();
          await runRef();
        } else {
          await runRef();
          await runOurs();
        }
      }
      const r0 = ref[0];
      const o0 = oursBy[o.precisions[0]][0];
      console.log(
        `\nside-by-side, coreset ${ratio * 100}% (${o0.trainPatches} patches -> bank ${o0.bankSize} ours / ${r0.bankSize} ref, dim ${o0.dim}), ` +
          `median of ${o.rounds} run(s); reference: torch ${r0.torch}, ${r0.nn}, ${r0.gaussian}, ${r0.threads} threads (fp32)`,
      );
      const head = ['stage', ...o.precisions.map((p) => `ours ${p}`), 'reference', ...o.precisions.map((p) => `ratio ${p}`)];
      const rows: string[][] = [head];
      for (const m of METRICS) {
        const b = medianOf(ref, m.key);
        const as = o.precisions.map((p) => medianOf(oursBy[p], m.key));
        const ratioTxt = (a: number | null) => (a !== null && b !== null && a > 0 ? `${(b / a).toFixed(2)}×` : 'n/a');
        rows.push([m.label, ...as.map((a) => fmt(a, m.unit)), fmt(b, m.unit), ...as.map(ratioTxt)]);
      }
      printTable(rows);
      for (const p of o.precisions) {
        const ours = oursBy[p];
        const fitR = (medianOf(ref, 'fitMs') ?? NaN) / (medianOf(ours, 'fitMs') ?? NaN);
        const predR = (medianOf(ref, 'predictP50Ms') ?? NaN) / (medianOf(ours, 'predictP50Ms') ?? NaN);
        console.log(
          `goals, ours ${p}: inference ≥ 2× faster: ${predR.toFixed(2)}× ${predR >= 2 ? 'MET' : 'NOT met'}; ` +
            `fit ≥ 3× faster${ratio === 0.1 ? '' : ' (goal stated for 10%)'}: ${fitR.toFixed(2)}× ${fitR >= 3 ? 'MET' : 'NOT met'}`,
        );
        console.log(
          `  ours ${p} predict through stage calls (no mapOriginal): p50 ${fmt(medianOf(ours, 'predictStagesP50Ms'), 'ms')}, ` +
            `p95 ${fmt(medianOf(ours, 'predictStagesP95Ms'), 'ms')}; backbone build+session: ours ${fmt(medianOf(ours, 'backboneInitMs'), 's')}, ` +
            `ref ${fmt(medianOf(ref, 'backboneInitMs'), 's')} (not in fit)`,
        );
      }
      console.log('');
    }
    console.log(machineLine());
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  const job = argv[0] === '--child' ? oursChild(argv) : main(argv);
  job.catch((e) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  });
}
