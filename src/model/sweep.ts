// The report's experiment (its Fig. 12/14): AUROC against background-filter type and size.
// Features are computed once per preprocessing setting; each finished setting is written atomically
// to OUT/settings/, so an interrupted sweep resumes where it stopped.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Backbone } from '../backbone/backbone.js';
import type { Dataset } from '../data/dataset.js';
import { DEFAULT_BACKGROUND, resolveAutoRange, validateBackgroundConfig, type BackgroundConfig } from '../image/background.js';
import type { Device } from '../onnx/session.js';
import type { ScoreKind, ScoringConfig } from '../types.js';
import { writeFileAtomic } from '../util/atomic.js';
import { evaluateFeatures, extractEvalFeatures, type MetricSummary } from './evaluate.js';
import { createExtractor, type ExtractorSetup } from './extract.js';
import type { Progress } from './patchcore.js';

export type SweepFilter = 'none' | 'average' | 'median';

export interface SweepOptions {
  /** Folder of the finished settings (OUT/settings/KEY.json). */
  out: string;
  filters: SweepFilter[];
  sizes: number[];
  /** One result per setting and score kind; `scoring` supplies the other scoring settings. */
  scores: ScoreKind[];
  scoring: ScoringConfig;
  /** The extractor setup; its background (range, morph, connected) is the base every filter varies. */
  setup: ExtractorSetup;
  runs: number;
  ratio: number;
  seed: number;
  device?: Device;
  progress?: Progress;
  /** One line per setting started (with an ETA). */
  log?: (msg: string) => void;
}

export interface SettingResult {
  key: string;
  filter: string;
  size: number;
  score: ScoreKind;
  fingerprint: string;
  image_auroc: MetricSummary;
  pixel_auroc: MetricSummary;
  seconds: number;
}

/** Run (or resume) the sweep: the no-filter baseline, then each filter × size, each score kind. */
export async function runSweep(ds: Dataset, backbone: Backbone, o: SweepOptions): Promise<SettingResult[]> {
  const { setup, scoring } = o;
  const bgBase = (await resolveAutoRange(ds.train, setup.background ?? DEFAULT_BACKGROUND)) as BackgroundConfig;
  // settings: the baseline, then each filter × size (median sizes must be odd: skipped otherwise)
  const settings: { filter: string; size: number; bg: BackgroundConfig | null }[] = [];
  if (o.filters.includes('none')) settings.push({ filter: 'none', size: 0, bg: null });
  for (const filter of o.filters.filter((f) => f !== 'none'))
    for (const size of o.sizes) {
      const bg = { ...bgBase, filter, size };
      if (filter === 'median' && size % 2 === 0) {
        setup.warn?.(`sweep: skipping median ${size} (the median filter needs an odd size)`);
        continue;
      }
      validateBackgroundConfig(bg);
      settings.push({ filter, size, bg });
    }
  const { preprocess: pre, featureDim, precision } = setup;
  const { ratio, seed, runs } = o;
  const fingerprint = JSON.stringify({
    data: path.resolve(ds.root),
    backbone: backbone.hash,
    precision,
    ratio,
    seed,
    runs,
    pre,
    featureDim,
    scoring,
    range: bgBase.range,
    morph: bgBase.morph,
    connected: bgBase.connected ?? false,
  });
  const results: SettingResult[] = [];
  const t0 = Date.now();
  for (const [i, s] of settings.entries()) {
    const pending = [];
    for (const score of o.scores) {
      const key = `${s.filter}-${s.size}-${score}`;
      const file = path.join(o.out, 'settings', `${key}.json`);
      const done = await readSetting(file, fingerprint);
      if (done) results.push(done);
      else pending.push({ key, file, score });
    }
    if (pending.length === 0) continue;
    const elapsed = (Date.now() - t0) / 1000;
    const eta = i > 0 ? ` eta ${Math.round((elapsed / i) * (settings.length - i))} s` : '';
    o.log?.(`sweep setting ${i + 1}/${settings.length}: ${s.filter}${s.size ? ` ${s.size}` : ''}${eta}`);
    // int8 ranges are calibrated per setting: the filter changes what the backbone sees
    const extractor = await createExtractor(ds.train, backbone, { ...setup, background: s.bg });
    const ts = Date.now();
    const ef = await extractEvalFeatures(ds, extractor, o.progress);
    try {
      for (const p of pending) {
        const r = await evaluateFeatures(ef, { runs, ratio, seed, scoring: { ...scoring, kind: p.score }, device: o.device, progress: o.progress });
        r.close(); // the maps on disk are not used
        const res: SettingResult = {
          key: p.key,
          filter: s.filter,
          size: s.size,
          score: p.score,
          fingerprint,
          image_auroc: r.metrics.image_auroc,
          pixel_auroc: r.metrics.pixel_auroc,
          seconds: (Date.now() - ts) / 1000,
        };
        await writeFileAtomic(p.file, JSON.stringify(res, null, 2));
        results.push(res);
      }
    } finally {
      ef.close();
    }
  }
  return results;
}

async function readSetting(file: string, fingerprint: string): Promise<SettingResult | null> {
  try {
    const r = JSON.parse(await fs.readFile(file, 'utf8')) as SettingResult;
    return r.fingerprint === fingerprint ? r : null;
  } catch {
    return null;
  }
}
