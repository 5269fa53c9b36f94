// The station inside the server: regions and --min-area applied as predict applies them, a verdict
// kept with the threshold it was made at, a threshold change recorded as a new version that only
// later parts see, the record over HTTP, per-model metrics and drift gauges against brute force.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { tempDir } from './helpers.js';
import { tinyModel, tinyPng } from './station-fixture.js';
import { startServer } from './server-fixture.js';
import { StationServices } from '../src/server/record/setup.js';
import { DriftWindow, DRIFT_BOUND } from '../src/server/monitor/drift.js';
import { regionsOf } from '../src/model/regions.js';
import { decodeImage } from '../src/image/load.js';
import type { PatchCore } from '../src/model/patchcore.js';

const TOKEN = 'station-token-1';
const AUTH = { authorization: `Bearer ${TOKEN}` };
let model: PatchCore;
let modelDir: string;
const apps: FastifyInstance[] = [];

before(async () => {
  ({ model, dir: modelDir } = await tinyModel());
});
after(async () => {
  for (const a of apps) await a.close();
});

async function station(o: { minArea?: number; token?: boolean } = {}) {
  const services = StationServices.open({
    model,
    modelName: path.basename(modelDir),
    station: 'st1',
    recordDir: tempDir('pc-station-rec-'),
    keepImages: 100,
    minArea: o.minArea,
  });
  const s = await startServer({ model, modelDir, token: o.token ? TOKEN : undefined, station: services });
  apps.push(s.app);
  return s.url;
}

type Judged = { id: string; verdict: 'pass' | 'fail'; threshold: number; score: number; regions: { area: number }[]; model: { name: string; version: string } };
async function judge(url: string, png: Buffer, headers: Record<string, string> = {}): Promise<Judged> {
  const res = await fetch(`${url}/v1/predict`, { method: 'POST', body: new Uint8Array(png), headers: { 'content-type': 'image/png', ...headers } });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as Judged;
}

test('regions come from the server, as predict computes them; --min-area makes the verdict follow them', async () => {
  const url = await station();
  const png = await tinyPng('missing', 2); // fails at the tiny model with one 42-pixel region
  const r = await judge(url, png);
  const direct = await model.predict(await decodeImage(png, 'x'));
  assert.deepEqual(r.regions, regionsOf(direct.mapOriginal, model.pixelThreshold!, 1).regions);
  assert.equal(r.verdict, direct.anomalous ? 'fail' : 'pass');
  assert.deepEqual(r.model, { name: 'tiny', version: 'v1' });
  const largest = Math.max(0, ...r.regions.map((g) => g.area));
  assert.ok(largest > 0, 'the planted defect gives a region');
  const strict = await judge(await station({ minArea: largest + 1 }), png);
  assert.equal(strict.verdict, 'pass', 'no region reaches --min-area');
  assert.deepEqual(strict.regions, []);
  assert.equal((await judge(await station({ minArea: largest }), png)).verdict, 'fail', 'the largest region is kept at its own area');
});

test('a threshold change is a recorded new version for later parts only; the record keeps old verdicts', async () => {
  const saved = model.threshold;
  const url = await station({ token: true });
  const good = await tinyPng('good', 42);
  const first = await judge(url, good, AUTH);
  assert.equal(first.verdict, 'pass');
  const refused = await fetch(`${url}/v1/threshold`, {
    method: 'PUT',
    body: JSON.stringify({ threshold: 0 }),
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(refused.status, 401);
  const put = await fetch(`${url}/v1/threshold`, {
    method: 'PUT',
    body: JSON.stringify({ threshold: first.score / 2 }),
    headers: { 'content-type': 'application/json', ...AUTH },
  });
  assert.equal(put.status, 200, await put.text());
  try {
    const later = await judge(url, good, AUTH);
    assert.equal(later.verdict, 'fail', 'the same part fails at the lower threshold');
    assert.equal(later.model.version, 'v2');
    const info = (await (await fetch(`${url}/v1/station`, { headers: AUTH })).json()) as {
      models: { version: string }[];
      threshold_changes: { previous: number; threshold: number }[];
    };
    assert.equal(info.models[0].version, 'v2');
    assert.deepEqual(
      info.threshold_changes.map((c) => [c.previous, c.threshold]),
      [[saved, first.score / 2]],
    );
    const rows = (
      (await (await fetch(`${url}/v1/results`, { headers: AUTH })).json()) as {
        results: { id: string; verdict: string; threshold: number; model_version: string }[];
      }
    ).results;
    assert.deepEqual(
      rows.map((x) => [x.id, x.verdict, x.threshold, x.model_version]),
      [
        [later.id, 'fail', first.score / 2, 'v2'],
        [first.id, 'pass', saved, 'v1'],
      ],
    );
    const failsOnly = await fetch(`${url}/v1/results?verdict=fail&format=csv`, { headers: AUTH });
    assert.match(failsOnly.headers.get('content-type')!, /text\/csv/);
    const csv = (await failsOnly.text()).trim().split('\n');
    assert.equal(csv.length, 2);
    assert.ok(csv[1].includes(later.id));
    const label = (body: unknown, headers: Record<string, string> = AUTH) =>
      fetch(`${url}/v1/results/${first.id}/label`, { method: 'PUT', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
    assert.equal((await label({ label: 'defect' }, {})).status, 401);
    assert.equal((await label({ label: 'maybe' })).status, 400);
    const labelled = (await (await label({ label: 'defect' })).json()) as { label: string; verdict: string };
    assert.deepEqual([labelled.label, labelled.verdict], ['defect', 'pass'], "the operator's label is kept beside the verdict, which stays");
    const bad = await fetch(`${url}/v1/results?verdict=maybe`, { headers: AUTH });
    assert.equal(bad.status, 400);
    const heat = await fetch(`${url}/v1/results/${first.id}/heatmap`, { headers: AUTH });
    assert.equal(heat.headers.get('content-type'), 'image/png');
    assert.equal((await fetch(`${url}/v1/results/${'0'.repeat(8)}/image`, { headers: AUTH })).status, 404);
  } finally {
    model.setThreshold(saved, model.config.thresholdInfo);
    await model.saveConfig(modelDir);
  }
});

test('/metrics counts verdicts per model and shows the drift gauges; /healthz names the model', async () => {
  const url = await station();
  const verdicts = [];
  for (let i = 0; i < 6; i++) verdicts.push((await judge(url, await tinyPng(i % 3 === 0 ? 'scratch' : 'good', 60 + i))).verdict);
  const text = await (await fetch(`${url}/metrics`)).text();
  const count = (v: string) => Number(new RegExp(`patchcore_parts_total\\{model="tiny",verdict="${v}"\\} (\\d+)`).exec(text)?.[1]);
  assert.equal(count('pass'), verdicts.filter((v) => v === 'pass').length);
  assert.equal(count('fail'), verdicts.filter((v) => v === 'fail').length);
  assert.match(text, /patchcore_normalized_score_count\{model="tiny"\} 6/);
  assert.match(text, /patchcore_drift_window_parts\{model="tiny"\} 6/);
  assert.match(text, /patchcore_drift_median_shift\{model="tiny"\} -?\d/);
  const health = (await (await fetch(`${url}/healthz`)).json()) as { station: string; models: { name: string; version: string; model_id: string }[] };
  assert.equal(health.station, 'st1');
  assert.deepEqual(
    health.models.map((m) => [m.name, m.version, m.model_id]),
    [['tiny', 'v1', model.modelId]],
  );
});

test('drift window: median, q95, share failed and median shift equal a brute-force sort of the last N', () => {
  const ref = { median: 2, scale: 0.5, threshold: 3, promisedFpr: 0.05 };
  const w = new DriftWindow(60);
  const all: number[] = [];
  let seed = 3;
  for (let i = 0; i < 150; i++) {
    seed = (seed * 16807) % 2147483647;
    const s = 1 + (3 * seed) / 2147483647;
    all.push(s);
    w.push(s, s > ref.threshold);
  }
  const last = all.slice(-60).sort((a, b) => a - b);
  const d = w.snapshot(ref);
  assert.equal(d.n, 60);
  assert.equal(d.median, last[Math.floor(0.5 * 59 + 0.5)]);
  assert.equal(d.q95, last[Math.floor(0.95 * 59 + 0.5)]);
  assert.equal(d.shareAbove, last.filter((s) => s > 3).length / 60);
  assert.equal(d.medianShift, (d.median! - 2) / 0.5);
  assert.ok(Math.abs(d.medianShift!) > DRIFT_BOUND.medianUnits, 'the planted shift is past the bound');
  assert.match(d.warning!, /scale units (above|below) the training median/);
  const calm = new DriftWindow(60);
  for (let i = 0; i < 60; i++) calm.push(2 + (i % 5) * 0.01, false);
  assert.equal(calm.snapshot(ref).warning, null);
  assert.equal(new DriftWindow(10).snapshot(ref).median, null);
});
