// Fit from features already extracted, stage by stage and timed, as PatchCore.fit does after its
// extraction (store, coreset, coverage radius, leave-one-image-out threshold): benches that fit the
// same set many times (seeds, subsets, update rules) extract once. The config is the part of
// ModelConfig that model/update.ts reads; scoring uses the default, masks are off.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Geometry, PatchFeatures } from '../../src/types.js';
import type { ModelConfig } from '../../src/model/config.js';
import { DEFAULT_SCORING } from '../../src/model/config.js';
import { FeatureStore } from '../../src/memory/index.js';
import { bankFromStore, scoreFeatures, type FittedBank } from '../../src/model/bank.js';
import { coverageRadius } from '../../src/model/update.js';
import { calibrationImages, leaveOneOutScores } from '../../src/model/threshold.js';
import { conformalThreshold } from '../../src/scoring/decision.js';
import type { Extractor } from '../../src/model/extract.js';

export interface Feats {
  file: string;
  features: PatchFeatures;
  geometry: Geometry;
}

/** Every file's features and geometry, and the seconds per image the extraction took. */
export async function extractAllFiles(ex: Extractor, files: string[], names: string[]): Promise<{ feats: Feats[]; perImage: number }> {
  const t0 = Date.now();
  const feats: Feats[] = [];
  let i = 0;
  for await (const e of ex.extractFiles(files)) feats.push({ file: names[i++], features: e.features, geometry: e.geometry });
  return { feats, perImage: (Date.now() - t0) / 1000 / Math.max(1, files.length) };
}

/**
 * `extractAllFiles` through a cache file outside the repository, so benches rerun on one set extract
 * once (the extractor must be the same, which `key` names). The cache is deliberate: it stays in
 * $TMPDIR/patchcore-bench-cache/features across runs, to be deleted by hand (GBs per set).
 * perImage is NaN when read from the cache.
 */
export async function cachedFeatures(ex: Extractor, files: string[], names: string[], key: string): Promise<{ feats: Feats[]; perImage: number }> {
  const base = path.join(os.tmpdir(), 'patchcore-bench-cache', 'features', key.replace(/[^A-Za-z0-9._-]+/g, '_'));
  if (fs.existsSync(`${base}.json`)) {
    const meta: { file: string; gridH: number; gridW: number; dim: number; count: number; geometry: Geometry }[] = JSON.parse(
      fs.readFileSync(`${base}.json`, 'utf8'),
    );
    // read image by image: the whole file can pass readFileSync's 2 GiB limit
    const fd = fs.openSync(`${base}.bin`, 'r');
    let at = 0;
    const feats = meta.map((m) => {
      const data = new Float32Array(m.count * m.dim);
      at += fs.readSync(fd, new Uint8Array(data.buffer), 0, data.byteLength, at);
      return { file: m.file, geometry: m.geometry, features: { gridH: m.gridH, gridW: m.gridW, dim: m.dim, count: m.count, data } };
    });
    fs.closeSync(fd);
    if (feats.length === files.length) return { feats, perImage: Number.NaN };
  }
  const r = await extractAllFiles(ex, files, names);
  fs.mkdirSync(path.dirname(base), { recursive: true });
  const meta = r.feats.map((f) => ({
    file: f.file,
    gridH: f.features.gridH,
    gridW: f.features.gridW,
    dim: f.features.dim,
    count: f.features.count,
    geometry: f.geometry,
  }));
  const fd = fs.openSync(`${base}.bin.tmp`, 'w');
  for (const f of r.feats) fs.writeSync(fd, new Uint8Array(f.features.data.buffer, f.features.data.byteOffset, f.features.count * f.features.dim * 4));
  fs.closeSync(fd);
  fs.renameSync(`${base}.bin.tmp`, `${base}.bin`);
  fs.writeFileSync(`${base}.json`, JSON.stringify(meta));
  return r;
}

export interface FeatureFit {
  config: ModelConfig;
  fitted: FittedBank;
  store: FeatureStore;
  /** Seconds per stage. */
  seconds: { store: number; coreset: number; radius: number; threshold: number };
  /** Every scored training image's leave-one-out score, in `loo.files` order. */
  loo: { files: string[]; image: number[]; pixel: number[] };
}

export interface FeatureFitOptions {
  ratio: number;
  seed: number;
  targetFpr: number;
  mapStride: number;
  /** Training images scored leave-one-out (0: all); default fit's sample. */
  calibration?: number;
  /** Skip the radius (to time fit without it). */
  noRadius?: boolean;
}

export async function fitFeatures(train: Feats[], o: FeatureFitOptions): Promise<FeatureFit> {
  const scoring = DEFAULT_SCORING;
  let t = Date.now();
  const lap = () => {
    const s = (Date.now() - t) / 1000;
    t = Date.now();
    return s;
  };
  const store = new FeatureStore({ seed: o.seed, inMemory: true });
  store.reserve(train.reduce((a, f) => a + f.features.count, 0));
  for (const f of train) await store.append(f.features);
  await store.flush();
  const storeS = lap();
  const fitted = await bankFromStore(store, { ratio: o.ratio, seed: o.seed, scoring });
  const coresetS = lap();
  const radius = o.noRadius ? undefined : await coverageRadius(store, fitted.origin!);
  const radiusS = lap();
  const images = train.map((f) => ({ gridH: f.features.gridH, gridW: f.features.gridW, geometry: f.geometry }));
  const loo = await leaveOneOutScores({ store: store, images: images }, fitted, scoring, {
    seed: o.seed,
    images: o.calibration ?? calibrationImages(o.targetFpr),
    mapStride: o.mapStride,
  });
  const thresholdS = lap();
  const th = conformalThreshold(loo.image, o.targetFpr);
  const px = conformalThreshold(loo.pixel, o.targetFpr);
  const date = new Date().toISOString();
  const files = loo.scored.map((i) => train[i].file);
  const config = {
    mapStride: o.mapStride,
    coreset: { ratio: o.ratio, seed: o.seed, trainPatches: store.count, radius },
    scoring,
    bank: { file: '', sha256: '', size: fitted.bank.size, dim: fitted.bank.dim, b: 0 },
    threshold: th.value,
    thresholdInfo: { method: 'conformal', n: th.n, date, targetFpr: o.targetFpr, promisedFpr: th.promisedFpr },
    pixelThreshold: px.value,
    pixelThresholdInfo: { method: 'conformal', n: px.n, date, targetFpr: o.targetFpr, promisedFpr: px.promisedFpr },
    leaveOneOut: { files, image: loo.image, pixel: loo.pixel },
  } as unknown as ModelConfig;
  return {
    config,
    fitted,
    store,
    seconds: { store: storeS, coreset: coresetS, radius: radiusS, threshold: thresholdS },
    loo: { files, image: loo.image, pixel: loo.pixel },
  };
}

/** Image scores of `feats` against a bank (predict's score: no foreground mask). */
export async function scoresAgainst(feats: Feats[], fitted: FittedBank): Promise<number[]> {
  const out: number[] = [];
  for (const f of feats) out.push((await scoreFeatures(f.features, fitted, DEFAULT_SCORING)).score);
  return out;
}
