// Accuracy guard on real images: eval of the default preset on ../shared tire (MVTec 3D-AD, RGB) at
// its own coreset ratio, seed 0, on every third training image and all 112 test images (to take seconds, not
// minutes). Fails when image or pixel AUROC falls more than 0.02 below the value recorded in
// test/accuracy-guard.json for the current default preset. Under CI=true a missing ../shared fails.
// Re-record after an intended change: PATCHCORE_RECORD_GUARD=1 node --test dist/test/accuracy-guard.test.js
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO, SHARED } from './helpers.js';
import { loadDataset } from '../src/data/dataset.js';
import { loadBackbone } from '../src/backbone/index.js';
import { createExtractor } from '../src/model/extract.js';
import { evaluate } from '../src/model/evaluate.js';
import { DEFAULT_PRESET, DEFAULT_SCORING, PRESETS } from '../src/model/config.js';

const TIRE = path.join(SHARED, 'datasets', 'mvtec3d_tire');
const RECORD = path.join(REPO, 'test', 'accuracy-guard.json');
const TOLERANCE = 0.02;
const TRAIN_STEP = 3;
const have = existsSync(TIRE);
const ci = process.env.CI === 'true';

test(`accuracy guard: preset ${DEFAULT_PRESET} on ../shared tire, image and pixel AUROC within ${TOLERANCE} of the record`, {
  skip: !have && !ci && `${TIRE} absent (under CI=true this fails)`,
}, async () => {
  assert.ok(have, `${TIRE} is missing: CI must clone the repository with shared/ beside it`);
  const full = await loadDataset(TIRE);
  const ds = { ...full, train: full.train.filter((_, i) => i % TRAIN_STEP === 0) };
  const p = PRESETS[DEFAULT_PRESET];
  const extractor = await createExtractor(ds.train, await loadBackbone(p.backbone), {
    preprocess: p.preprocess,
    background: null,
    featureDim: p.featureDim,
    precision: p.precision,
  });
  const r = await evaluate(ds, extractor, { runs: 1, ratio: p.ratio, seed: 0, scoring: DEFAULT_SCORING });
  const got = { image_auroc: r.metrics.image_auroc.mean as number, pixel_auroc: r.metrics.pixel_auroc.mean as number };
  const records = existsSync(RECORD) ? (JSON.parse(readFileSync(RECORD, 'utf8')) as Record<string, typeof got & { ratio: number }>) : {};
  if (process.env.PATCHCORE_RECORD_GUARD === '1') {
    records[DEFAULT_PRESET] = {
      ...got,
      ratio: p.ratio,
      recorded: new Date().toISOString().slice(0, 10),
      train: `${ds.train.length} of ${full.train.length}`,
      test: full.test.length,
    } as typeof got & { ratio: number };
    writeFileSync(RECORD, JSON.stringify(records, null, 2) + '\n');
  }
  const want = records[DEFAULT_PRESET];
  assert.ok(want, `no recorded values for preset ${DEFAULT_PRESET} in ${RECORD}; measured ${JSON.stringify(got)}`);
  assert.equal(want.ratio, p.ratio, `the record of preset ${DEFAULT_PRESET} was made at coreset ${want.ratio}, the preset now uses ${p.ratio}: re-record it`);
  for (const k of ['image_auroc', 'pixel_auroc'] as const)
    assert.ok(got[k] >= want[k] - TOLERANCE, `${k} ${got[k].toFixed(4)} is more than ${TOLERANCE} below the recorded ${want[k].toFixed(4)}`);
});
