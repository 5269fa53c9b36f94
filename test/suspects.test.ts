// Suspect training images (model/suspects.ts): planted outliers among good scores are listed, the
// clean ones mostly not; fit scores every image with --exclude-suspects and refits without them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { tempDir } from './helpers.js';
import { findSuspects } from '../src/model/suspects.js';
import { conformalThreshold } from '../src/scoring/decision.js';
import { syntheticSample } from '../src/data/synthetic.js';
import { encodePng } from '../src/image/load.js';
import { loadBackbone } from '../src/backbone/index.js';
import { PatchCore } from '../src/model/patchcore.js';
import { DEFAULT_SCORING } from '../src/model/config.js';
import { UserError } from '../src/util/errors.js';
import { Rng } from '../src/util/rng.js';

test('five planted defect-like scores among 200 good ones are all suspects; few clean ones are; a rank bound could not', () => {
  const rng = new Rng(5);
  const scores = Array.from({ length: 200 }, () => 5 + 0.3 * rng.normal());
  const planted = [7.5, 8, 7.2, 9, 7.8];
  const all = [...scores, ...planted];
  const files = all.map((_, i) => `img_${i}.png`);
  const s = findSuspects(files, all, all.length, 0.01);
  const flagged = new Set(s.images.map((x) => x.file));
  for (let i = 200; i < 205; i++) assert.ok(flagged.has(`img_${i}`.concat('.png')), `planted ${all[i]} not flagged (bound ${s.bound})`);
  assert.ok(s.images.length - 5 <= 4, `${s.images.length - 5} clean images flagged`);
  assert.deepEqual(
    s.images.map((x) => x.score),
    [...s.images.map((x) => x.score)].sort((a, b) => b - a),
  );
  // the conformal rank at the same α sits on the planted scores themselves
  const rank = conformalThreshold(all, 0.01).value;
  assert.ok(all.filter((x) => x > rank).length < 4);
  assert.throws(() => findSuspects(files, all, all.length, 0.7), UserError);
});

test('fit lists defective images planted among the training goods and --exclude-suspects refits without them', async () => {
  const dir = tempDir('pc-suspects-');
  const files: string[] = [];
  // a planted defect: a good part with a 32-px saturated square (the synthetic set's own defects are too faint at 160 px)
  // two unlike defects, or each would cover the other when left out
  const put = async (name: string, seed: number, defect?: number[]) => {
    const img = syntheticSample(seed, 'good', 160).image;
    if (defect) for (let y = 60; y < 92; y++) for (let x = 60; x < 92; x++) img.data.set(defect, (y * 160 + x) * 3);
    const f = path.join(dir, name);
    await fs.writeFile(f, await encodePng(img));
    files.push(f);
  };
  for (let i = 0; i < 18; i++) await put(`good_${String(i).padStart(2, '0')}.png`, 500 + i);
  await put('planted_a.png', 70, [255, 0, 0]);
  await put('planted_b.png', 71, [0, 0, 255]);
  const o = { preprocess: { resize: 160, crop: 160 }, background: null, featureDim: 0, ratio: 0.1, seed: 0, scoring: DEFAULT_SCORING, calibrationImages: 0 };
  const backbone = await loadBackbone('inception_v3');
  const model = await PatchCore.fit(files, backbone, o);
  const s = model.config.suspects!;
  assert.equal(s.scored, 20);
  const names = s.images.map((x) => x.file);
  assert.ok(s.images.length <= 3, `${s.images.length} suspects: ${names.join(', ')}`);
  assert.ok(names.includes('planted_a.png') && names.includes('planted_b.png'), `suspects ${names.join(', ')} (bound ${s.bound})`);
  const refit = await PatchCore.fit(files, backbone, { ...o, excludeSuspects: true });
  assert.equal(refit.config.suspects!.excluded, true);
  assert.equal(refit.config.trainingData!.images, 20 - s.images.length);
  assert.ok(!refit.config.leaveOneOut!.files.some((f) => f.startsWith('planted')));
});
