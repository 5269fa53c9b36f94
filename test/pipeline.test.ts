// End-to-end PatchCore on synthetic images: planted defects score higher and maps peak on them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import './helpers.js';
import { fitSynthetic, SIZE } from './fit-fixture.js';
import { syntheticSample, type DefectKind } from '../src/data/synthetic.js';
import { loadBackbone } from '../src/backbone/index.js';
import { PatchCore } from '../src/model/patchcore.js';
import type { ScoreMap } from '../src/types.js';
import * as path from 'node:path';

async function fitModel(ratio = 0.25) {
  return fitSynthetic({ ratio });
}

function argmax(map: ScoreMap): { x: number; y: number } {
  let best = 0;
  for (let i = 1; i < map.data.length; i++) if (map.data[i] > map.data[best]) best = i;
  return { x: best % map.width, y: Math.floor(best / map.width) };
}

/** Distance from (x,y) to the nearest mask pixel (0 inside). */
function distToMask(mask: Uint8Array, w: number, x: number, y: number): number {
  let d = Infinity;
  for (let i = 0; i < mask.length; i++) if (mask[i]) d = Math.min(d, Math.hypot((i % w) - x, Math.floor(i / w) - y));
  return d;
}

const fitted = fitModel();

test('planted defects score above every good image', async () => {
  const { model } = await fitted;
  const good: number[] = [];
  for (let i = 0; i < 6; i++) good.push((await model.predict(syntheticSample(900 + i, 'good', SIZE).image)).score);
  for (const kind of ['scratch', 'crack', 'missing'] as DefectKind[]) {
    for (let i = 0; i < 2; i++) {
      const s = (await model.predict(syntheticSample(700 + i, kind, SIZE).image)).score;
      assert.ok(s > Math.max(...good), `${kind} #${i}: score ${s.toFixed(3)} not above the best good image ${Math.max(...good).toFixed(3)}`);
    }
  }
});

test('the anomaly map peaks on the planted defect', async () => {
  const { model } = await fitted;
  for (const [kind, seed] of [
    ['missing', 701],
    ['scratch', 702],
    ['crack', 703],
  ] as [DefectKind, number][]) {
    const s = syntheticSample(seed, kind, SIZE);
    const r = await model.predict(s.image);
    assert.equal(r.map.width, SIZE);
    const p = argmax(r.map);
    const d = distToMask(s.mask, SIZE, p.x, p.y);
    // a missing piece is large: the peak must be inside it; thin lines: within one stride-8 patch
    const tol = kind === 'missing' ? 0 : 8;
    assert.ok(d <= tol, `${kind}: map peak at (${p.x},${p.y}) is ${d.toFixed(1)} px from the defect`);
  }
});

test('a saved model reloads and gives identical scores', async () => {
  const { model, dir } = await fitted;
  const mdir = path.join(dir, 'model');
  await model.save(mdir);
  const again = await PatchCore.load(mdir, await loadBackbone('inception_v3'));
  const img = syntheticSample(702, 'scratch', SIZE).image;
  const a = await model.predict(img);
  const b = await again.predict(img);
  assert.equal(a.score, b.score);
  assert.deepEqual(Array.from(a.map.data.slice(0, 500)), Array.from(b.map.data.slice(0, 500)));
  assert.deepEqual(again.config.bank, model.config.bank);
});

test('fit refuses fewer than 2 training images before any work (the threshold scores each against the others)', async () => {
  const backbone = await loadBackbone('inception_v3');
  const o = {
    preprocess: { resize: 64, crop: 64 },
    background: null,
    featureDim: 0,
    ratio: 0.1,
    seed: 0,
    scoring: { kind: 'nearest' as const, k: 1, b: 1, squared: false, reweight: false, sigma: 4 },
  };
  for (const files of [[], ['/nonexistent/one.png']])
    await assert.rejects(PatchCore.fit(files, backbone, o), {
      name: 'UserError',
      message: `Expected at least 2 training images for files but received an array of ${files.length}`,
    });
});
