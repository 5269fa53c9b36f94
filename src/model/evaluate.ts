// The evaluation protocol: backbone features once, then N runs of coreset + scoring (seeds 0..N-1),
// image and pixel metrics per run, summarised as mean ± std, with a per-defect-type breakdown.
// Memory does not grow with the features or the runs: the test images' features wait in a file on
// disk and are read back one image at a time, pixel metrics are counted per run in score histograms
// (exact metrics would hold every map), and only the last run's maps are kept, on disk, for the report.
import type { PatchFeatures, ScoreMap, ScoringConfig } from '../types.js';
import type { Extractor } from './extract.js';
import type { Dataset, TestItem } from '../data/dataset.js';
import type { Geometry } from '../image/preprocess.js';
import { alignedMask } from '../image/mask.js';
import { FeatureStore, RecordFile, type CoresetMethod } from '../memory/index.js';
import { anomalyMap } from '../scoring/anomaly-map.js';
import { bankFromStore, scoreFeatures, type Progress } from './bank.js';
import type { StoredImage } from './extract.js';
import { calibrationImages, leaveOneOutScores } from './threshold.js';
import { conformalThreshold, normalizationScale, normalizeScore } from '../scoring/decision.js';
import { DEFAULT_TARGET_FPR } from './config.js';
import { auroc, f1Max, histogramMetrics, PixelHistogram, summarize, type MetricValue } from '../metrics/index.js';
import type { Device } from '../onnx/session.js';
import { invalid, UserError } from '../util/errors.js';
import { fitForeground } from '../foreground/fit.js';
import { foregroundCells, type ForegroundConfig, type ForegroundMode } from '../foreground/mask.js';
import type { BgRange } from '../image/background-range.js';
import { findSuspects, type Suspects } from './suspects.js';
import { relativeNames } from '../data/common-folder.js';

export type MetricSummary = { mean: number; std: number; runs: number[] } | { mean: null; std: null; runs: (number | null)[]; reason: string };

export interface EvalOptions {
  runs: number;
  ratio: number;
  seed: number; // first seed; run i uses seed + i
  scoring: ScoringConfig;
  /** The false-alarm rate fit's threshold aims at (each run's own leave-one-image-out threshold is checked on the test set). */
  targetFpr?: number;
  /** Training images scored for that threshold (default as fit's). */
  calibrationImages?: number;
  device?: Device;
  progress?: Progress;
  /** auto (default), exact or composable: see memory/select.ts. */
  coresetMethod?: CoresetMethod;
  /** Suspect training images are listed above the logistic bound at this α (model/suspects.ts; default 0.01). */
  suspectAlpha?: number;
  /** Foreground mask of the scores (default off); `range` needs features from an extractor with a foreground range. */
  foreground?: ForegroundMode;
  /** The setting's RGB range, for `range`. */
  foregroundRange?: BgRange;
}

export interface TestResult {
  item: TestItem;
  geometry: Geometry;
  /** Image score of every run. */
  scores: number[];
  /** Normalised score of the last run, at that run's fit-time threshold (0.5 at the threshold). */
  normalized: number;
  /** Anomaly map of the last run, at crop size (for the report), read from disk on each call. */
  map(): ScoreMap;
  mask?: Uint8Array; // aligned with the map
}

export interface EvalResult {
  metrics: Record<'image_auroc' | 'pixel_auroc' | 'pixel_auroc_anomalous' | 'aupro' | 'image_f1_max' | 'threshold_fpr' | 'threshold_recall', MetricSummary>;
  /** Each run's fit-time threshold (the conformal quantile at targetFpr), as `fit` would save it. */
  fitThresholds: number[];
  /** Image-level F1-optimal threshold of each run. */
  thresholds: number[];
  per_defect: Record<string, Record<'image_auroc' | 'pixel_auroc' | 'aupro', MetricSummary>>;
  tests: TestResult[];
  seconds: { features: number; perRun: number[] };
  /** How each run's coreset was selected, in words (memory/select.ts). */
  coresetNotes?: string[];
  /** The resolved --foreground (shared by the runs: it depends on the features only); absent when off. */
  foreground?: ForegroundConfig;
  /** Training images that score like defects, from the last run's leave-one-out scores (as fit lists them). */
  suspects?: Suspects;
  /** Frees the last run's maps (tests[i].map() fails after). Safe to call twice. */
  close(): void;
}

export interface PreparedTest {
  item: TestItem;
  geometry: Geometry;
  mask?: Uint8Array;
  /** RGB-range foreground cells (extractor with a foreground range). */
  foreground?: Uint8Array;
}

/** Summarise per-run metric values; undefined in any run makes the summary undefined. */
export function summarizeMetric(values: MetricValue[]): MetricSummary {
  const bad = values.find((v) => v.value === null);
  if (bad && bad.value === null) return { mean: null, std: null, runs: values.map((v) => v.value), reason: bad.reason };
  return summarize(values.map((v) => v.value as number));
}

/** Backbone features of a dataset, computed once and reused by every run and scoring variant. */
export interface EvalFeatures {
  store: FeatureStore;
  images: StoredImage[];
  /** The training images' names (relative to their common folder), for the suspects list. */
  trainNames?: string[];
  tests: PreparedTest[];
  /** Test image i's patch features, read back from disk. */
  testFeatures(i: number): PatchFeatures;
  hasMasks: boolean;
  seconds: number;
  /** The backbone's shallow stride: maps place the patch cells at it (as fit records for predict). */
  mapStride: number;
  close(): void;
}

export async function extractEvalFeatures(ds: Dataset, extractor: Extractor, progress?: Progress): Promise<EvalFeatures> {
  const t0 = Date.now();
  const store = new FeatureStore();
  const file = new RecordFile();
  const close = () => {
    store.close();
    file.close();
  };
  try {
    const images = await extractor.storeFiles(ds.train, store, (d, t) => progress?.('train features', d, t));
    const tests: PreparedTest[] = [];
    const grids: Omit<PatchFeatures, 'data'>[] = [];
    for await (const e of extractor.extractFiles(
      ds.test.map((t) => t.file),
      (d, t) => progress?.('test features', d, t),
    )) {
      const item = ds.test[tests.length];
      if (ds.hasMasks && item.label === 1 && !item.mask) throw new UserError(`${item.file}: defect image without a ground-truth mask`);
      const mask = ds.hasMasks ? await alignedMask(item.mask, e.geometry) : undefined;
      const { gridH, gridW, dim, count, data } = e.features;
      file.append(data.subarray(0, count * dim));
      grids.push({ gridH, gridW, dim, count });
      tests.push({ item, geometry: e.geometry, mask, ...(e.foreground ? { foreground: e.foreground } : {}) });
    }
    await extractor.release(); // the runs need only the features
    const testFeatures = (i: number): PatchFeatures => ({ ...grids[i], data: file.read(i) });
    return {
      store,
      images,
      trainNames: relativeNames(ds.train),
      tests,
      testFeatures,
      hasMasks: ds.hasMasks,
      seconds: (Date.now() - t0) / 1000,
      mapStride: extractor.backbone.spec.strides[0],
      close,
    };
  } catch (e) {
    close();
    throw e;
  }
}

/** N runs (seeds seed..seed+N-1) of coreset + scoring over precomputed features. */
export async function evaluateFeatures(ef: EvalFeatures, o: EvalOptions): Promise<EvalResult> {
  if (!(o.runs >= 1 && Number.isInteger(o.runs))) throw invalid('runs', 'a positive integer', o.runs);
  const perRun: number[] = [];
  const notes: string[] = [];
  const runScores: number[][] = [];
  const runPixels: RunPixels[] = [];
  const fg = evalForeground(ef, o);
  const maps = new RecordFile(); // the last run's, for the report
  const fit: { threshold: number; scale: number }[] = [];
  let suspects: Suspects | undefined;
  try {
    for (let r = 0; r < o.runs; r++) {
      const tr = Date.now();
      const run = await oneRun(ef, o, fg, r, r === o.runs - 1 ? maps : undefined);
      if (run.coresetNote) notes.push(run.coresetNote);
      fit.push(run.fit);
      suspects = run.suspects;
      runScores.push(run.scores);
      runPixels.push(run.pixels);
      perRun.push((Date.now() - tr) / 1000);
      o.progress?.('runs', r + 1, o.runs);
    }
  } catch (e) {
    maps.close();
    throw e;
  }
  const map = (i: number): ScoreMap => ({ width: ef.tests[i].geometry.cropW, height: ef.tests[i].geometry.cropH, data: maps.read(i) });
  return {
    ...summariseRuns(ef.tests, runScores, runPixels, fit, map, { features: ef.seconds, perRun }),
    coresetNotes: notes,
    ...(fg.config ? { foreground: fg.config } : {}),
    ...(suspects && { suspects }),
    close: () => maps.close(),
  };
}

/** The foreground mask shared by every run (it depends on the features only), and each test image's kept cells. */
interface EvalForeground {
  config: ForegroundConfig | undefined;
  keeps: (Uint8Array | null)[];
}

function evalForeground(ef: EvalFeatures, o: EvalOptions): EvalForeground {
  const config = fitForeground(ef.store, ef.images, { mode: o.foreground ?? 'off', seed: o.seed, range: o.foregroundRange });
  if (!config) return { config, keeps: ef.tests.map(() => null) };
  if (config.mask === 'range' && ef.tests.some((t) => !t.foreground))
    throw new Error('evaluate: --foreground range needs features extracted with a foreground range');
  return { config, keeps: ef.tests.map((t, i) => foregroundCells(config, ef.testFeatures(i), t.foreground)) };
}

/** Run r: its coreset, fit's threshold, every test image's score, and pixel metrics counted map by map (maps kept in `keep`). */
async function oneRun(ef: EvalFeatures, o: EvalOptions, fg: EvalForeground, r: number, keep?: RecordFile) {
  const targetFpr = o.targetFpr ?? DEFAULT_TARGET_FPR;
  const progress = (s: string, d: number, t: number) => o.progress?.(`run ${r + 1}/${o.runs} ${s}`, d, t);
  const fb = await bankFromStore(ef.store, { ratio: o.ratio, seed: o.seed + r, scoring: o.scoring, device: o.device, progress, method: o.coresetMethod });
  try {
    const train = await leaveOneOutScores({ store: ef.store, images: ef.images }, fb, o.scoring, {
      device: o.device,
      seed: o.seed + r,
      images: o.calibrationImages ?? calibrationImages(targetFpr),
      mapStride: ef.mapStride,
      foreground: fg.config,
    });
    const fit = { threshold: conformalThreshold(train.image, targetFpr).value, scale: normalizationScale(train.image) };
    const name = (i: number) => ef.trainNames?.[i] ?? `training image ${i + 1}`;
    const suspects = findSuspects(train.scored.map(name), train.image, ef.images.length, o.suspectAlpha);
    const scores: number[] = [];
    const hists = new GroupHistograms(ef.tests);
    for (const [i, t] of ef.tests.entries()) {
      o.progress?.(`run ${r + 1}/${o.runs} scoring`, i, ef.tests.length);
      const { score, patches } = await scoreFeatures(ef.testFeatures(i), fb, o.scoring, { keep: fg.keeps[i] });
      scores.push(score);
      const map = anomalyMap(patches, t.geometry.cropW, t.geometry.cropH, o.scoring.sigma, ef.mapStride);
      if (ef.hasMasks) hists.add(i, map, t.mask!);
      keep?.append(map.data);
    }
    o.progress?.(`run ${r + 1}/${o.runs} scoring`, ef.tests.length, ef.tests.length);
    return { coresetNote: fb.coresetNote, fit, suspects, scores, pixels: ef.hasMasks ? hists.metrics() : null };
  } finally {
    await fb.nn.release();
  }
}

export async function evaluate(ds: Dataset, extractor: Extractor, o: EvalOptions): Promise<EvalResult> {
  const ef = await extractEvalFeatures(ds, extractor, o.progress);
  try {
    return await evaluateFeatures(ef, o);
  } finally {
    ef.close();
  }
}

/** One run's pixel metrics: pooled, and per defect type (its images with the good ones); null without masks. */
type RunPixels = { all: PixelValues; perDefect: Map<string, PixelValues> } | null;
type PixelValues = ReturnType<typeof histogramMetrics>;

/** One histogram for the good images and one per defect type: pooled or per defect, they add. */
class GroupHistograms {
  private readonly good = new PixelHistogram();
  private readonly defects = new Map<string, PixelHistogram>();
  constructor(private readonly tests: PreparedTest[]) {
    for (const t of tests) if (t.item.label === 1 && !this.defects.has(t.item.defect)) this.defects.set(t.item.defect, new PixelHistogram());
  }

  add(i: number, map: ScoreMap, mask: Uint8Array): void {
    const { label, defect } = this.tests[i].item;
    (label === 1 ? this.defects.get(defect)! : this.good).add(map, mask);
  }

  metrics(): RunPixels {
    const all = histogramMetrics([this.good, ...this.defects.values()]);
    return { all, perDefect: new Map([...this.defects].map(([d, h]) => [d, histogramMetrics([this.good, h])])) };
  }
}

function summariseRuns(
  tests: PreparedTest[],
  runScores: number[][],
  runPixels: RunPixels[],
  fit: { threshold: number; scale: number }[],
  map: (i: number) => ScoreMap,
  seconds: EvalResult['seconds'],
): Omit<EvalResult, 'close'> {
  const labels = tests.map((t) => t.item.label);
  const noMasks: MetricValue = { value: null, reason: 'dataset has no ground-truth masks' };
  const img: MetricValue[] = [];
  const f1: MetricValue[] = [];
  const thresholds: number[] = [];
  const pix: MetricValue[] = [];
  const pixA: MetricValue[] = [];
  const pro: MetricValue[] = [];
  const defects = [...new Set(tests.filter((t) => t.item.label === 1).map((t) => t.item.defect))];
  const perDefect = new Map(defects.map((d) => [d, { image_auroc: [] as MetricValue[], pixel_auroc: [] as MetricValue[], aupro: [] as MetricValue[] }]));
  runScores.forEach((scores, r) => {
    img.push(auroc(scores, labels));
    const f = f1Max(scores, labels);
    f1.push(f.value === null ? f : { value: f.value });
    if (f.value !== null) thresholds.push(f.threshold);
    const pm = runPixels[r];
    pix.push(pm ? pm.all.auroc : noMasks);
    pixA.push(pm ? pm.all.aurocAnomalous : noMasks);
    pro.push(pm ? pm.all.aupro : noMasks);
    for (const d of defects) {
      const idx = tests.map((t, i) => (t.item.label === 0 || t.item.defect === d ? i : -1)).filter((i) => i >= 0);
      const acc = perDefect.get(d)!;
      acc.image_auroc.push(
        auroc(
          idx.map((i) => scores[i]),
          idx.map((i) => labels[i]),
        ),
      );
      const dm = pm?.perDefect.get(d);
      acc.pixel_auroc.push(dm ? dm.auroc : noMasks);
      acc.aupro.push(dm ? dm.aupro : noMasks);
    }
  });
  const last = runScores.length - 1;
  return {
    metrics: {
      image_auroc: summarizeMetric(img),
      pixel_auroc: summarizeMetric(pix),
      pixel_auroc_anomalous: summarizeMetric(pixA),
      aupro: summarizeMetric(pro),
      image_f1_max: summarizeMetric(f1),
      threshold_fpr: summarizeMetric(runScores.map((s, r) => rateAbove(s, labels, 0, fit[r].threshold))),
      threshold_recall: summarizeMetric(runScores.map((s, r) => rateAbove(s, labels, 1, fit[r].threshold))),
    },
    fitThresholds: fit.map((f) => f.threshold),
    thresholds,
    per_defect: Object.fromEntries(
      [...perDefect].map(([d, m]) => [
        d,
        { image_auroc: summarizeMetric(m.image_auroc), pixel_auroc: summarizeMetric(m.pixel_auroc), aupro: summarizeMetric(m.aupro) },
      ]),
    ),
    tests: tests.map((t, i) => ({
      item: t.item,
      geometry: t.geometry,
      scores: runScores.map((s) => s[i]),
      normalized: normalizeScore(runScores[last][i], fit[last].threshold, fit[last].scale),
      map: () => map(i),
      mask: t.mask,
    })),
    seconds,
  };
}

/** Share of the images with `label` whose score is above `threshold` (false alarms for 0, recall for 1). */
function rateAbove(scores: number[], labels: number[], label: number, threshold: number): MetricValue {
  const of = scores.filter((_, i) => labels[i] === label);
  if (of.length === 0) return { value: null, reason: `no ${label ? 'defective' : 'good'} test images` };
  return { value: of.filter((s) => s > threshold).length / of.length };
}
