// The streaming pixel metrics (score histograms, metrics/pixel-histogram.ts) against the exact
// ones (metrics/pixel.ts, itself checked against scikit-learn and the MVTec recipe).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { histogramMetrics, pixelMetrics, PixelHistogram, type MetricValue } from '../src/metrics/index.js';
import type { ScoreMap } from '../src/types.js';
import { UserError } from '../src/util/errors.js';
import { Rng } from '../src/util/rng.js';
import { SHARED } from './helpers.js';

const fixtureFile = path.join(SHARED, 'fixtures/metrics.json');
const CI = process.env.CI === 'true';
const noFixture = `fixture ${fixtureFile} not found (set PATCHCORE_SHARED to the shared folder)`;

const value = (v: MetricValue) => {
  assert.notEqual(v.value, null, JSON.stringify(v));
  return v.value as number;
};

/** Smooth noisy maps with planted defect regions (blobs raising the score), some images good. */
function plantedSet(seed: number, images: number, w: number, h: number) {
  const rng = new Rng(seed);
  const maps: ScoreMap[] = [],
    masks: Uint8Array[] = [],
    defect: boolean[] = [];
  for (let i = 0; i < images; i++) {
    const data = new Float32Array(w * h),
      mask = new Uint8Array(w * h);
    const base = 0.5 + rng.next();
    for (let p = 0; p < data.length; p++) data[p] = base + 0.3 * Math.abs(rng.normal());
    const blobs = i % 3 === 0 ? 0 : 1 + Math.floor(rng.next() * 3);
    for (let b = 0; b < blobs; b++) {
      const cx = rng.next() * w,
        cy = rng.next() * h,
        r = 2 + rng.next() * 6,
        lift = 0.2 + rng.next();
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          const d = Math.hypot(x - cx, y - cy);
          if (d < r) mask[y * w + x] = 1;
          if (d < r * 1.5) data[y * w + x] += lift * (1 - d / (r * 1.5)); // the score spills past the region, as real maps do
        }
    }
    maps.push({ width: w, height: h, data });
    masks.push(mask);
    defect.push(blobs > 0);
  }
  return { maps, masks, defect };
}

function histogramOf(maps: ScoreMap[], masks: Uint8Array[]): PixelHistogram {
  const h = new PixelHistogram();
  maps.forEach((m, i) => h.add(m, masks[i]));
  return h;
}

function assertClose(hist: ReturnType<typeof histogramMetrics>, exact: ReturnType<typeof pixelMetrics>, what: string, tol = 1e-4) {
  for (const k of ['auroc', 'aurocAnomalous', 'aupro'] as const) {
    const a = value(hist[k]),
      e = value(exact[k]);
    assert.ok(Math.abs(a - e) <= tol, `${what} ${k}: ${a} vs exact ${e}`);
  }
}

test('histogram metrics equal the exact pixel metrics within 1e-4 on planted regions, at several FPR limits', () => {
  for (const seed of [1, 2, 3]) {
    const s = plantedSet(seed, 12, 40 + seed * 7, 33);
    const h = histogramOf(s.maps, s.masks);
    for (const limit of [0.3, 0.05, 1]) assertClose(histogramMetrics([h], limit), pixelMetrics(s.maps, s.masks, limit), `seed ${seed} limit ${limit}`);
  }
});

test('histograms of disjoint image groups add: good + one defect group = the exact metrics of those images', () => {
  const s = plantedSet(7, 15, 48, 40);
  const good = new PixelHistogram(),
    a = new PixelHistogram(),
    b = new PixelHistogram();
  s.maps.forEach((m, i) => (!s.defect[i] ? good : i % 2 ? a : b).add(m, s.masks[i]));
  assertClose(histogramMetrics([good, a, b]), pixelMetrics(s.maps, s.masks), 'pooled');
  const idx = s.maps.map((_, i) => i).filter((i) => !s.defect[i] || i % 2 === 1);
  assertClose(
    histogramMetrics([good, a]),
    pixelMetrics(
      idx.map((i) => s.maps[i]),
      idx.map((i) => s.masks[i]),
    ),
    'good + a',
  );
});

test('ties, negative scores and a wide score range step like the exact walk', () => {
  const rng = new Rng(11);
  // quantised scores (many exact ties), both signs, over six decades
  const maps: ScoreMap[] = [],
    masks: Uint8Array[] = [];
  for (let i = 0; i < 6; i++) {
    const data = Float32Array.from({ length: 30 * 30 }, () => (Math.round(rng.normal() * 4) / 4) * 10 ** Math.floor(rng.next() * 6 - 3));
    const mask = Uint8Array.from(data, (v, p) => (i > 1 && v > 0.1 && p % 7 !== 0 ? 1 : 0));
    maps.push({ width: 30, height: 30, data });
    masks.push(mask);
  }
  assertClose(histogramMetrics([histogramOf(maps, masks)]), pixelMetrics(maps, masks), 'ties', 1e-9);
});

test('matches the exact metrics on the shared MVTec/scikit-learn fixtures', { skip: !existsSync(fixtureFile) && !CI && noFixture }, () => {
  assert.ok(existsSync(fixtureFile), noFixture);
  const fx = JSON.parse(readFileSync(fixtureFile, 'utf8')) as {
    aupro: { name: string; limit: number; maps: number[][][]; masks: number[][][]; aupro: number; pixel_auroc: number }[];
  };
  assert.ok(fx.aupro.length > 0);
  for (const c of fx.aupro) {
    const maps = c.maps.map((rows) => ({ width: rows[0].length, height: rows.length, data: Float32Array.from(rows.flat()) }));
    const masks = c.masks.map((m) => Uint8Array.from(m.flat()));
    const h = histogramMetrics([histogramOf(maps, masks)], c.limit);
    assert.ok(Math.abs(value(h.aupro) - c.aupro) <= 1e-4, `${c.name} aupro ${value(h.aupro)} vs ${c.aupro}`);
    assert.ok(Math.abs(value(h.auroc) - c.pixel_auroc) <= 1e-4, `${c.name} pixel auroc ${value(h.auroc)} vs ${c.pixel_auroc}`);
  }
});

test("undefined metrics carry the exact reference's reasons; bad maps are UserErrors", () => {
  const m = (data: number[]): ScoreMap => ({ width: data.length, height: 1, data: Float32Array.from(data) });
  const cases: [ScoreMap[], Uint8Array[]][] = [
    [[], []],
    [[m([1, 2])], [Uint8Array.of(0, 0)]],
    [[m([1, 2])], [Uint8Array.of(1, 1)]],
    [
      [m([1, 2]), m([3, 4])],
      [Uint8Array.of(0, 0), Uint8Array.of(1, 1)],
    ], // defect image without good pixels
  ];
  for (const [maps, masks] of cases) {
    const h = histogramMetrics([histogramOf(maps, masks)]),
      e = pixelMetrics(maps, masks);
    for (const k of ['auroc', 'aurocAnomalous', 'aupro'] as const) assert.deepEqual(h[k], e[k], `${k} of ${JSON.stringify(masks)}`);
  }
  const h = new PixelHistogram();
  assert.throws(
    () => h.add(m([1, NaN]), Uint8Array.of(0, 1)),
    (e: Error) => e instanceof UserError && /NaN at pixel 1/.test(e.message),
  );
  assert.throws(() => h.add(m([1, 2]), Uint8Array.of(0)), UserError);
  assert.throws(() => histogramMetrics([h], 0), /Expected a number in \(0, 1\] for limit but received 0/);
  assert.equal(h.images, 0); // a refused map adds nothing
});
