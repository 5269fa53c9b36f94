// The HTTP API against a real server on a loopback port: predictions, every limit, auth, metrics.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { CLI } from './helpers.js';
import sharp from 'sharp';
import type { FastifyInstance } from 'fastify';
import { fitTestModel, samplePng, startServer } from './server-fixture.js';
import type { PatchCore } from '../src/model/patchcore.js';

const TOKEN = 'test-token-123';
const AUTH = { authorization: `Bearer ${TOKEN}` };
let model: PatchCore;
let modelDir: string;
let main: { app: FastifyInstance; url: string };
const others: FastifyInstance[] = [];

before(async () => {
  const fitted = await fitTestModel();
  model = fitted.model;
  modelDir = path.join(fitted.dir, 'model');
  await model.save(modelDir);
  main = await startServer({ model, token: TOKEN, maxBytes: 1_000_000, maxPixels: 1024 * 1024 });
});
after(async () => {
  await Promise.all([main.app, ...others].map((a) => a.close()));
});

async function server(o: Parameters<typeof startServer>[0]) {
  const s = await startServer(o);
  others.push(s.app);
  return s.url;
}

function postImage(url: string, body: Uint8Array, type = 'image/png', headers: Record<string, string> = AUTH) {
  return fetch(`${url}/v1/predict`, { method: 'POST', body: new Uint8Array(body), headers: { 'content-type': type, ...headers } });
}

async function errorOf(res: Response, status: number, code?: string): Promise<string> {
  const body = (await res.json()) as { statusCode: number; code: string; message: string };
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${JSON.stringify(body)}`);
  assert.equal(body.statusCode, status);
  if (code) assert.equal(body.code, code, body.message);
  assert.ok(body.message.length > 0);
  return body.message;
}

/** GET with the path sent exactly as written (fetch would normalise `..`). */
function rawGet(url: string, pathname: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    http
      .get({ host: u.hostname, port: u.port, path: pathname, headers: AUTH }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
}

test('good and defect images: JSON result, defect scores higher, heatmap PNG', async () => {
  const good = (await (await postImage(main.url, await samplePng('good', 9001))).json()) as Record<string, any>;
  const res = await postImage(main.url, await samplePng('scratch', 9002));
  assert.equal(res.status, 200);
  const bad = (await res.json()) as Record<string, any>;
  for (const r of [good, bad]) {
    assert.equal(typeof r.score, 'number');
    assert.equal(r.threshold, model.config.threshold);
    assert.equal(r.anomalous, r.score > r.threshold);
    assert.equal(r.anomalous, r.normalized > 0.5);
    assert.equal(r.model_id, model.modelId);
    assert.deepEqual([r.map.width, r.map.height], [224, 224]);
    assert.ok(r.map.max >= r.map.min);
    assert.match(r.heatmap_url, /^\/v1\/heatmap\/[0-9a-f-]{36}\.png$/);
  }
  assert.ok(bad.score > good.score, `defect ${bad.score} should score above good ${good.score}`);
  const hm = await fetch(main.url + bad.heatmap_url, { headers: AUTH });
  assert.equal(hm.status, 200);
  assert.equal(hm.headers.get('content-type'), 'image/png');
  const meta = await sharp(Buffer.from(await hm.arrayBuffer())).metadata();
  assert.equal(meta.width, 224);
  assert.ok(meta.height! > 224, 'overlay carries a legend strip below the image');
});

test('JPEG body and multipart batch', async () => {
  const jpeg = await sharp(await samplePng('crack', 9003))
    .jpeg({ quality: 90 })
    .toBuffer();
  assert.equal((await postImage(main.url, jpeg, 'image/jpeg')).status, 200);
  const form = new FormData();
  form.append('images', new Blob([new Uint8Array(await samplePng('good', 9004))], { type: 'image/png' }), 'good.png');
  form.append('images', new Blob([new Uint8Array(jpeg)], { type: 'image/jpeg' }), 'crack.jpg');
  const res = await fetch(`${main.url}/v1/predict`, { method: 'POST', body: form, headers: AUTH });
  assert.equal(res.status, 200);
  const { results } = (await res.json()) as { results: { filename: string; score: number; heatmap_url: string }[] };
  assert.deepEqual(
    results.map((r) => r.filename),
    ['good.png', 'crack.jpg'],
  );
  assert.ok(results[1].score > results[0].score);
});

test('bad input gets a clean 4xx JSON error and the server stays up', async () => {
  await errorOf(await postImage(main.url, Buffer.from('definitely not an image')), 400, 'not_an_image');
  await errorOf(await postImage(main.url, Buffer.alloc(0)), 400);
  const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
  await errorOf(await postImage(main.url, svg), 400, 'unsupported_format');
  const png = await samplePng('good', 9005);
  assert.match(await errorOf(await postImage(main.url, png.subarray(0, 3000)), 400, 'bad_input'), /cannot read image/); // valid header, truncated data
  await errorOf(await postImage(main.url, Buffer.from('{"a":1}'), 'application/json'), 415);
  await errorOf(await postImage(main.url, Buffer.from('hello'), 'text/plain'), 415);
  await errorOf(await postImage(main.url, Buffer.from('<x/>'), 'application/xml'), 415);
  const garbled = Buffer.from('--xyz\r\nContent-Disposition: form-data; name="a"; filename="a.png"\r\n\r\nabc'); // never closed
  const mp = await postImage(main.url, garbled, 'multipart/form-data; boundary=xyz');
  assert.ok(mp.status === 400, `malformed multipart: ${mp.status}`);
  const empty = new FormData();
  empty.append('note', 'no files here');
  await errorOf(await fetch(`${main.url}/v1/predict`, { method: 'POST', body: empty, headers: AUTH }), 400, 'no_files');
  assert.equal((await fetch(`${main.url}/healthz`)).status, 200);
});

test('size limits: 413 for the body, 422 for the image dimensions', async () => {
  const big = Buffer.alloc(1_500_000, 7);
  await errorOf(await postImage(main.url, big), 413, 'body_too_large');
  const form = new FormData();
  form.append('images', new Blob([new Uint8Array(big)], { type: 'image/png' }), 'big.png');
  await errorOf(await fetch(`${main.url}/v1/predict`, { method: 'POST', body: form, headers: AUTH }), 413, 'body_too_large');
  const wide = await sharp({ create: { width: 2000, height: 1000, channels: 3, background: '#808080' } })
    .png()
    .toBuffer();
  assert.ok(wide.length < 1_000_000);
  assert.match(await errorOf(await postImage(main.url, wide), 422, 'image_too_large'), /2000x1000/);
  const strip = await sharp({ create: { width: 5000, height: 2, channels: 3, background: '#808080' } })
    .png()
    .toBuffer(); // 10k pixels, but 560000x224 once resized
  assert.match(await errorOf(await postImage(main.url, strip), 422, 'image_too_large'), /elongated/);
});

test('bearer token guards /v1 only', async () => {
  const none = await postImage(main.url, await samplePng('good', 9006), 'image/png', {});
  await errorOf(none, 401, 'unauthorized');
  assert.equal(none.headers.get('www-authenticate'), 'Bearer');
  await errorOf(await fetch(`${main.url}/v1/model`, { headers: { authorization: 'Bearer wrong-token' } }), 401);
  await errorOf(await fetch(`${main.url}/v1/model`, { headers: { authorization: TOKEN } }), 401);
  const m = (await (await fetch(`${main.url}/v1/model`, { headers: AUTH })).json()) as Record<string, any>;
  assert.equal(m.threshold, model.config.threshold);
  assert.equal(m.backbone.id, 'inception_v3');
  assert.equal(m.preprocessing.crop, 224);
  assert.equal((await fetch(`${main.url}/healthz`)).status, 200);
  const page = await fetch(`${main.url}/`);
  assert.match(await page.text(), /PatchCore inspection station/);
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  assert.equal((await fetch(`${main.url}/app.js`)).status, 200);
});

test('heatmap ids: unknown, malformed and traversal paths are 404', async () => {
  for (const p of [
    '/v1/heatmap/00000000-0000-4000-8000-000000000000.png',
    '/v1/heatmap/not-a-uuid.png',
    '/v1/heatmap/../../package.json',
    '/v1/heatmap/..%2F..%2Fpackage.json',
    '/v1/heatmap/%2e%2e%2f%2e%2e%2fpackage.json',
    '/v1/heatmap/..\\..\\package.json',
    '/../package.json',
    '/app.js/../../package.json',
  ])
    assert.equal(await rawGet(main.url, p), 404, p);
});

test('burst beyond concurrency + queue: 503 with Retry-After, nothing else fails', async () => {
  const url = await server({ model, concurrency: 1, queue: 1, timeoutMs: 60_000 });
  const png = await samplePng('good', 9007);
  const responses = await Promise.all(Array.from({ length: 6 }, () => postImage(url, png, 'image/png', {})));
  const statuses = responses.map((r) => r.status);
  assert.ok(statuses.filter((s) => s === 200).length >= 2, `statuses ${statuses}`);
  assert.ok(statuses.filter((s) => s === 503).length >= 1, `statuses ${statuses}`);
  assert.ok(
    statuses.every((s) => s === 200 || s === 503),
    `statuses ${statuses}`,
  );
  for (const r of responses) {
    if (r.status === 503) {
      assert.match(r.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
      await errorOf(r, 503, 'overloaded');
    } else await r.arrayBuffer();
  }
});

test('per-request timeout: 504 (503 + Retry-After if it expires in the queue), server stays up', async () => {
  const url = await server({ model, concurrency: 1, queue: 4, timeoutMs: 1 });
  const png = await samplePng('good', 9008);
  // Whether the second request expires queued (503) or running (504) depends on event-loop timing;
  // the deterministic split is covered in server-units.test.ts.
  const responses = await Promise.all([postImage(url, png, 'image/png', {}), postImage(url, png, 'image/png', {})]);
  assert.ok(
    responses.some((r) => r.status === 504),
    `statuses ${responses.map((r) => r.status)}`,
  );
  for (const r of responses) {
    if (r.status === 503) assert.ok(r.headers.get('retry-after'));
    await errorOf(r, r.status, r.status === 504 ? 'timeout' : 'overloaded');
  }
  assert.equal((await fetch(`${url}/healthz`)).status, 200);
});

test('metrics: Prometheus counts by route and status, latency histogram', async () => {
  const text = await (await fetch(`${main.url}/metrics`)).text();
  const count = (labels: string) => Number(new RegExp(`^patchcore_http_requests_total\\{${labels}\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  assert.ok(count('route="/v1/predict",method="POST",status="200"') >= 4, text);
  assert.ok(count('route="/v1/predict",method="POST",status="401"') >= 1);
  assert.ok(count('route="/v1/predict",method="POST",status="413"') >= 2);
  assert.ok(count('route="unmatched",method="GET",status="404"') >= 1);
  assert.match(text, /^patchcore_http_request_duration_seconds_bucket\{route="\/v1\/predict",le="\+Inf"\} \d+$/m);
  assert.match(text, /^# TYPE patchcore_inference_duration_seconds histogram$/m);
  assert.match(text, /^patchcore_inference_active 0$/m);
});

test('patchcore serve: bad flags are one-line errors', () => {
  const cases: [string[], RegExp][] = [
    [['--model', '/nonexistent/model'], /model \/nonexistent\/model: no model.json/],
    [['--model', '.', '--port', 'x'], /Expected an integer 0\.\.65535 for --port but received "x"/],
    [['--model', '.', '--concurrency', '0'], /Expected an integer 1\.\.64 for --concurrency but received 0/],
    [['--model', '.', '--token', 'short'], /Expected at least 8 characters for --token but received "5 characters"/],
  ];
  for (const [args, message] of cases) {
    const r = spawnSync(process.execPath, [CLI, 'serve', ...args], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^patchcore: error: .+\n$/);
    assert.match(r.stderr, message);
  }
});

test('patchcore serve: SIGTERM lets the in-flight request finish, then exits 0', async () => {
  const child = spawn(process.execPath, [CLI, 'serve', '--model', modelDir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', r));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', () => {
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) resolve(m[1]);
      });
      void exited.then(() => reject(new Error(`serve exited early: ${out}`)));
    });
    const form = new FormData();
    for (let i = 0; i < 4; i++) form.append('images', new Blob([new Uint8Array(await samplePng('good', 9100 + i))], { type: 'image/png' }), `g${i}.png`);
    const pending = fetch(`${url}/v1/predict`, { method: 'POST', body: form });
    // Wait until the batch is being scored, then ask the server to stop.
    for (let i = 0; i < 200; i++) {
      const h = (await (await fetch(`${url}/healthz`)).json()) as { inflight: number };
      if (h.inflight > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGTERM');
    const res = await pending.catch((e: Error) => assert.fail(`in-flight request failed: ${e.message} (${String(e.cause)})\n${out}`));
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { results: unknown[] }).results.length, 4);
    assert.equal(await exited, 0, out);
    assert.match(out, /SIGTERM, finishing in-flight requests[\s\S]*stopped/);
    await assert.rejects(fetch(`${url}/healthz`), 'no longer accepting connections');
  } finally {
    child.kill('SIGKILL');
  }
});

test('PUT /v1/threshold: refused without a token or model directory; with both it saves into model.json', async () => {
  const body = JSON.stringify({ threshold: 1.25 });
  const put = (url: string, headers: Record<string, string> = AUTH, b = body) =>
    fetch(`${url}/v1/threshold`, { method: 'PUT', body: b, headers: { 'content-type': 'application/json', ...headers } });
  await errorOf(await put(main.url), 403, 'read_only'); // a token, but no model directory
  const { model: m2, dir } = await fitTestModel();
  const dir2 = path.join(dir, 'model');
  await m2.save(dir2);
  await errorOf(await put(await server({ model: m2, modelDir: dir2 }), {}), 403, 'read_only'); // no token
  const url = await server({ model: m2, modelDir: dir2, token: TOKEN });
  await errorOf(await put(url, {}), 401, 'unauthorized');
  await errorOf(await put(url, AUTH, JSON.stringify({ threshold: 'high' })), 400, 'bad_input');
  const before = m2.modelId;
  const ok = (await (await put(url)).json()) as Record<string, any>;
  assert.equal(ok.threshold, 1.25);
  assert.notEqual(ok.model_id, before, 'a new threshold is a new model id');
  const saved = JSON.parse(await (await import('node:fs/promises')).readFile(path.join(dir2, 'model.json'), 'utf8'));
  assert.equal(saved.threshold, 1.25);
  assert.deepEqual([saved.thresholdInfo.method, saved.thresholdInfo.source], ['manual', 'web page']);
  const r = (await (await postImage(url, await samplePng('good', 9010))).json()) as Record<string, any>;
  assert.equal(r.threshold, 1.25);
  assert.equal(r.model_id, ok.model_id);
  assert.equal(r.anomalous, r.score > 1.25);
});
