// Feedback from the station (server/feedback.ts, model/feedback.ts): labels only with a token and a
// model directory (403), only for parts the server scored and still holds (404), stored as the
// scored bytes with their id and model_id; POST /v1/update adds a planted good part to the bank, the
// new version (new model_id, parent the old) scores it lower, predicts during the swap never fail
// and each is scored whole by the model it names; an unreadable label keeps the old version whole.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { tempDir } from './helpers.js';
import { tinyModel, tinyPng } from './station-fixture.js';
import { startServer } from './server-fixture.js';
import { StationServices } from '../src/server/record/setup.js';
import { PatchCore } from '../src/model/patchcore.js';
import { versionFile } from '../src/model/store.js';
import { decodeImage } from '../src/image/load.js';
import type { FeedbackLabel } from '../src/model/feedback.js';

const TOKEN = 'feedback-token-1';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const JSON_AUTH = { ...AUTH, 'content-type': 'application/json' };
let fittedDir: string;
const apps: FastifyInstance[] = [];

before(async () => {
  ({ dir: fittedDir } = await tinyModel());
});
after(async () => {
  for (const a of apps) await a.close();
});

/** A fresh copy of the fitted model and a server on it (each test may change its model). */
async function station(o: { token?: boolean; modelDir?: boolean; record?: boolean; keepImages?: number } = {}) {
  const dir = path.join(tempDir('pc-feedback-'), 'tiny');
  cpSync(fittedDir, dir, { recursive: true });
  const model = await PatchCore.open(dir);
  const services = StationServices.open({
    model,
    modelName: 'tiny',
    station: 'st1',
    recordDir: o.record === false ? null : tempDir('pc-feedback-rec-'),
    keepImages: o.keepImages ?? 100,
  });
  const s = await startServer({
    model,
    modelDir: o.modelDir === false ? undefined : dir,
    token: o.token === false ? undefined : TOKEN,
    station: services,
    modelName: 'tiny',
  });
  apps.push(s.app);
  return { url: s.url, dir, model };
}

type Scored = { id: string; score: number; model_id: string };
async function judge(url: string, png: Buffer): Promise<Scored> {
  const res = await fetch(`${url}/v1/predict`, { method: 'POST', body: new Uint8Array(png), headers: { ...AUTH, 'content-type': 'image/png' } });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as Scored;
}
const label = (url: string, id: unknown, l: string, headers: Record<string, string> = JSON_AUTH) =>
  fetch(`${url}/v1/feedback`, { method: 'POST', body: JSON.stringify({ id, label: l }), headers });
const update = (url: string) => fetch(`${url}/v1/update`, { method: 'POST', headers: AUTH });
const sidecars = (dir: string, kind: string) =>
  existsSync(path.join(dir, 'feedback', kind)) ? readdirSync(path.join(dir, 'feedback', kind)).filter((n) => n.endsWith('.json')) : [];
const readLabel = (dir: string, kind: string, id: string) => JSON.parse(readFileSync(path.join(dir, 'feedback', kind, `${id}.json`), 'utf8')) as FeedbackLabel;

test('feedback and update are refused (403) without a token or without a model directory, and 401 without the bearer', async () => {
  for (const o of [{ token: false }, { modelDir: false }]) {
    const { url, dir } = await station(o);
    const r = await judge(url, await tinyPng('good', 40));
    const headers = o.token === false ? { 'content-type': 'application/json' } : JSON_AUTH;
    assert.equal((await label(url, r.id, 'good', headers)).status, 403);
    assert.equal((await fetch(`${url}/v1/update`, { method: 'POST', headers: o.token === false ? {} : AUTH })).status, 403);
    assert.equal(sidecars(dir, 'good').length, 0);
    const st = (await (await fetch(`${url}/v1/feedback`, { headers: o.token === false ? {} : AUTH })).json()) as { enabled: boolean };
    assert.equal(st.enabled, false);
  }
  const { url } = await station();
  const r = await judge(url, await tinyPng('good', 41));
  assert.equal((await label(url, r.id, 'good', { 'content-type': 'application/json' })).status, 401);
});

test('only parts the server scored and still holds are accepted: unknown, malformed or expired ids get 404, image bytes 400', async () => {
  const { url, dir } = await station({ keepImages: 1 });
  assert.equal((await label(url, '01234567-89ab-4def-8123-456789abcdef', 'good')).status, 404, 'a well-formed id the server never gave');
  assert.equal((await label(url, '../../model', 'good')).status, 404);
  const first = await judge(url, await tinyPng('good', 42));
  await judge(url, await tinyPng('good', 43)); // keep-images 1: the first part's image is gone
  const expired = await label(url, first.id, 'good');
  assert.equal(expired.status, 404);
  assert.equal(((await expired.json()) as { code: string }).code, 'expired');
  const raw = await fetch(`${url}/v1/feedback`, {
    method: 'POST',
    body: new Uint8Array(await tinyPng('good', 44)),
    headers: { ...AUTH, 'content-type': 'image/png' },
  });
  assert.equal(raw.status, 400, 'an image sent as feedback is not a scored part');
  assert.equal((await label(url, first.id, 'maybe')).status, 400);
  assert.deepEqual([...sidecars(dir, 'good'), ...sidecars(dir, 'defect')], []);
});

test('a label stores the scored bytes with id and model_id, and the label in the record; relabelling moves it; no record: recent results serve', async () => {
  const { url, dir } = await station();
  const png = await tinyPng('scratch', 45);
  const r = await judge(url, png);
  const res = await label(url, r.id, 'good');
  assert.equal(res.status, 201, await res.clone().text());
  assert.deepEqual(await res.json(), { id: r.id, label: 'good', model_id: r.model_id, recorded: true, waiting: 1 });
  assert.deepEqual(readFileSync(path.join(dir, 'feedback', 'good', `${r.id}.png`)), png, 'the bytes the server scored');
  const side = readLabel(dir, 'good', r.id);
  assert.equal(side.model_id, r.model_id);
  assert.equal(side.score, r.score);
  assert.equal((await label(url, r.id, 'good')).status, 200, 'the same label again changes nothing');
  const rows = ((await (await fetch(`${url}/v1/results`, { headers: AUTH })).json()) as { results: { id: string; label: string }[] }).results;
  assert.equal(rows.find((x) => x.id === r.id)?.label, 'good');
  assert.equal((await label(url, r.id, 'defect')).status, 201);
  assert.deepEqual(sidecars(dir, 'good'), []);
  assert.deepEqual(readdirSync(path.join(dir, 'feedback', 'good')), [], 'the moved image leaves nothing behind');
  assert.equal(readLabel(dir, 'defect', r.id).label, 'defect');

  const bare = await station({ record: false });
  const r2 = await judge(bare.url, png);
  assert.equal((await label(bare.url, r2.id, 'good')).status, 201);
  assert.deepEqual(readFileSync(path.join(bare.dir, 'feedback', 'good', `${r2.id}.png`)), png);
});

test('POST /v1/update: new model_id with the old as parent, saved over it; the planted good part scores lower; no predict fails during the swap', async () => {
  const { url, dir, model: old } = await station();
  const planted = await tinyPng('missing', 2); // a flagged part the operator calls good
  const before = await judge(url, planted);
  assert.ok(before.score > old.threshold, 'the planted part is a false alarm before the update');
  assert.equal((await label(url, before.id, 'good')).status, 201);

  const others = await Promise.all([tinyPng('good', 47), tinyPng('crack', 48), planted]);
  const imgs = await Promise.all(others.map((b) => decodeImage(b, 'x')));
  const oldScores = await Promise.all(imgs.map(async (im) => (await old.predict(im)).score));
  const seen: { i: number; model_id: string; score: number; status: number }[] = [];
  let stop = false;
  const worker = async (w: number) => {
    const one = async (k: number) => {
      const i = (w + k) % others.length;
      const res = await fetch(`${url}/v1/predict`, { method: 'POST', body: new Uint8Array(others[i]), headers: { ...AUTH, 'content-type': 'image/png' } });
      const b = (await res.json()) as Scored;
      seen.push({ i, model_id: b.model_id, score: b.score, status: res.status });
    };
    let k = 0;
    while (!stop) await one(k++);
    await one(k); // starts after the update answered: the new version
  };
  const workers = [0, 1, 2].map(worker);
  await new Promise((r) => setTimeout(r, 50));
  const up = await update(url);
  stop = true;
  await Promise.all(workers);
  assert.equal(up.status, 200, await up.clone().text());
  const u = (await up.json()) as { model_id: string; parent: string; applied: { id: string }[]; bank: { before: number; after: number } };
  assert.equal(u.parent, old.modelId);
  assert.notEqual(u.model_id, old.modelId);
  assert.deepEqual(
    u.applied.map((a) => a.id),
    [before.id],
  );
  assert.ok(u.bank.after > u.bank.before, 'the planted part adds bank entries');

  const saved = await PatchCore.open(dir); // what the directory holds now is what serves
  assert.equal(saved.modelId, u.model_id);
  assert.equal(saved.config.parent, old.modelId);
  assert.ok(existsSync(versionFile(dir, old.modelId)), 'the old version is kept');
  const newScores = await Promise.all(imgs.map(async (im) => (await saved.predict(im)).score));
  const after = await judge(url, planted);
  assert.equal(after.model_id, u.model_id);
  assert.ok(after.score < before.score, `the added good part scores lower (${after.score} < ${before.score})`);
  assert.ok(Math.abs(after.score - newScores[2]) < 1e-9);

  assert.ok(seen.some((s) => s.model_id === old.modelId) && seen.some((s) => s.model_id === u.model_id), 'predicts ran on both sides of the swap');
  for (const s of seen) {
    assert.equal(s.status, 200, 'no request fails during the swap');
    const want = s.model_id === old.modelId ? oldScores[s.i] : s.model_id === u.model_id ? newScores[s.i] : Number.NaN;
    assert.ok(Math.abs(s.score - want) < 1e-9, `a response is scored whole by the model it names (${s.model_id})`);
  }
  const st = (await (await fetch(`${url}/v1/feedback`, { headers: AUTH })).json()) as { waiting: number; model_id: string; labels: { applied: number } };
  assert.deepEqual([st.waiting, st.model_id, st.labels.applied], [0, u.model_id, 1]);
  assert.equal(readLabel(dir, 'good', before.id).applied?.model_id, u.model_id);
  assert.equal((await update(url)).status, 409, 'nothing left to apply');
  const info = (await (await fetch(`${url}/v1/station`, { headers: AUTH })).json()) as { models: { version: string; model_id: string }[] };
  assert.deepEqual([info.models[0].version, info.models[0].model_id], ['v2', u.model_id], 'the record names the new version');
  assert.equal((await label(url, before.id, 'defect')).status, 409, 'a label in the bank cannot change');
});

test('an unreadable stored label: the update records the failure and keeps the old version whole', async () => {
  const { url, dir, model } = await station();
  const r = await judge(url, await tinyPng('good', 49));
  assert.equal((await label(url, r.id, 'good')).status, 201);
  writeFileSync(path.join(dir, 'feedback', 'good', `${r.id}.png`), 'not a png');
  const json = readFileSync(path.join(dir, 'model.json'));
  const up = await update(url);
  assert.equal(up.status, 422, await up.clone().text());
  const body = (await up.json()) as { model_id: string; failed: { id: string }[] };
  assert.deepEqual(
    body.failed.map((f) => f.id),
    [r.id],
  );
  assert.deepEqual(readFileSync(path.join(dir, 'model.json')), json, 'model.json untouched');
  assert.ok(!existsSync(path.join(dir, 'versions')));
  assert.equal((await judge(url, await tinyPng('good', 50))).model_id, model.modelId, 'the old version keeps serving');
  assert.ok(readLabel(dir, 'good', r.id).failed, 'the failure is recorded on the label');
  const st = (await (await fetch(`${url}/v1/feedback`, { headers: AUTH })).json()) as { waiting: number; labels: { failed: number } };
  assert.deepEqual([st.waiting, st.labels.failed], [0, 1]);
});

test('an update that finds model.json changed meanwhile writes nothing, answers 409, and the labels still wait', async () => {
  const { url, dir, model } = await station();
  const r = await judge(url, await tinyPng('good', 51));
  assert.equal((await label(url, r.id, 'good')).status, 201);
  const file = path.join(dir, 'model.json');
  const changed = `${JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), threshold: 123.5 }, null, 2)}\n`;
  writeFileSync(file, changed); // another writer (a threshold saved elsewhere)
  const up = await update(url);
  assert.equal(up.status, 409, await up.clone().text());
  assert.equal(readFileSync(file, 'utf8'), changed);
  assert.equal((await judge(url, await tinyPng('good', 52))).model_id, model.modelId);
  const st = (await (await fetch(`${url}/v1/feedback`, { headers: AUTH })).json()) as { waiting: number };
  assert.equal(st.waiting, 1);
});
