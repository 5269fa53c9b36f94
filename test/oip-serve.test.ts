// The Open Inference Protocol on a real server with a two-model repository: results equal local
// predict (JSON and binary, encoded images and preprocessed tensors), the CLI client's rows equal
// local predict's, the spec's shapes, errors, reloads and a fuzzed binary parser.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { CLI, tempDir } from './helpers.js';
import { startServer } from './server-fixture.js';
import { copyModel, twoModelRepo, type TwoModelRepo } from './oip-fixture.js';
import { ModelRepository } from '../src/server/repository.js';
import { PatchCore } from '../src/model/patchcore.js';
import { InferenceClient } from '../src/server/v2/client.js';
import { loadImage } from '../src/image/load.js';
import { Rng } from '../src/util/rng.js';

const TOKEN = 'oip-token-1234';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const MAX_BYTES = 4_000_000; // a 224² FP32 image as JSON numbers is about 3 MB
let fx: TwoModelRepo;
let repo: ModelRepository;
let app: FastifyInstance;
let url: string;

before(async () => {
  fx = await twoModelRepo();
  repo = await ModelRepository.open(fx.root, { load: (d) => PatchCore.open(d) });
  ({ app, url } = await startServer({
    repository: repo,
    get model() {
      return repo.defaultModel().model;
    },
    token: TOKEN,
    maxBytes: MAX_BYTES,
    maxFiles: 4,
  }));
});
after(async () => {
  repo?.stop();
  await app?.close();
});

const close = (a: number, b: number, tol = 1e-5) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function post(pathname: string, body: Uint8Array | string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}${pathname}`, {
    method: 'POST',
    body: typeof body === 'string' ? body : new Uint8Array(body),
    headers: { ...AUTH, 'content-type': 'application/octet-stream', ...headers },
  });
  const raw = Buffer.from(await res.arrayBuffer());
  return {
    status: res.status,
    headers: res.headers,
    raw,
    json: () => JSON.parse(raw.subarray(0, Number(res.headers.get('inference-header-content-length') ?? raw.length)).toString()),
  };
}

async function get(pathname: string, headers: Record<string, string> = AUTH) {
  const res = await fetch(`${url}${pathname}`, { headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test('two models: infer over JSON and binary equals local predict (scores, verdicts, maps at the crop size)', async () => {
  for (const name of ['alpha', 'beta'] as const) {
    const local = fx.local[name];
    for (const binary of [false, true]) {
      const client = new InferenceClient(url, name, { token: TOKEN, binary });
      for (const file of fx.images) {
        const want = await local.predict(await loadImage(file));
        const got = await client.infer(await fs.readFile(file), { map: true });
        assert.ok(close(got.score, want.score), `${name} ${file}: ${got.score} vs ${want.score}`);
        assert.ok(close(got.normalized, want.normalized));
        assert.equal(got.anomalous, want.anomalous);
        assert.equal(got.modelId, local.modelId, 'answered by the model asked for');
        assert.equal(got.threshold, local.threshold);
        assert.deepEqual([got.map!.width, got.map!.height], [want.map.width, want.map.height]);
        assert.ok(maxDiff(got.map!.data, want.map.data) <= 1e-5 * Math.max(1, ...want.map.data), `${name} map`);
      }
    }
  }
  assert.notEqual(fx.local.alpha.modelId, fx.local.beta.modelId);
});

test('FP32 [N,3,H,W] input, as the exported graph takes it: JSON and binary, batch of 2, equal predict', async () => {
  const model = fx.local.beta;
  const imgs = await Promise.all(fx.images.slice(0, 2).map(loadImage));
  const prepared = await Promise.all(imgs.map((i) => model.extractor.prepare(i)));
  const want = await Promise.all(imgs.map((i) => model.predict(i)));
  const data = new Float32Array(2 * 3 * 224 * 224);
  prepared.forEach((p, i) => data.set(p.tensor.data, i * p.tensor.data.length));
  const input = { name: 'image', datatype: 'FP32', shape: [2, 3, 224, 224] };
  const outputs = [{ name: 'score' }, { name: 'anomaly_map', parameters: { binary_data: true } }];
  const head = Buffer.from(JSON.stringify({ id: 'fp32-1', inputs: [{ ...input, parameters: { binary_data_size: data.byteLength } }], outputs }));
  const bin = await post('/v2/models/beta/versions/1/infer', Buffer.concat([head, Buffer.from(data.buffer)]), {
    'inference-header-content-length': String(head.length),
  });
  assert.equal(bin.status, 200, bin.raw.toString().slice(0, 300));
  const r = bin.json();
  assert.equal(r.id, 'fp32-1');
  assert.equal(r.model_name, 'beta');
  assert.equal(r.model_version, '1');
  assert.equal(r.parameters.model_id, model.modelId);
  const [score, map] = r.outputs;
  assert.deepEqual({ ...score, data: undefined }, { name: 'score', datatype: 'FP32', shape: [2], data: undefined });
  for (let i = 0; i < 2; i++) assert.ok(close(score.data[i], want[i].score));
  assert.deepEqual(map.shape, [2, 1, 224, 224]);
  const jsonLen = Number(bin.headers.get('inference-header-content-length'));
  const maps = new Float32Array(bin.raw.buffer.slice(bin.raw.byteOffset + jsonLen, bin.raw.byteOffset + bin.raw.length));
  assert.equal(maps.length, map.parameters.binary_data_size / 4);
  for (let i = 0; i < 2; i++)
    assert.ok(maxDiff(maps.subarray(i * 224 * 224, (i + 1) * 224 * 224), want[i].map.data) <= 1e-5 * Math.max(1, ...want[i].map.data));
  // the same tensor as nested JSON numbers (one image)
  const nested = Array.from({ length: 3 }, (_, c) =>
    Array.from({ length: 224 }, (_, y) => Array.from(prepared[0].tensor.data.subarray((c * 224 + y) * 224, (c * 224 + y + 1) * 224))),
  );
  const js = await post('/v2/models/beta/infer', JSON.stringify({ inputs: [{ ...input, shape: [1, 3, 224, 224], data: [nested] }] }), {
    'content-type': 'application/json',
  });
  assert.equal(js.status, 200, js.raw.toString().slice(0, 300));
  const out = js.json().outputs;
  assert.deepEqual(
    out.map((o: { name: string }) => o.name),
    ['score', 'normalized', 'anomalous'],
    'no map unless asked for',
  );
  assert.ok(close(out[0].data[0], want[0].score));
  assert.equal(out[2].datatype, 'BOOL');
  assert.equal(out[2].data[0], want[0].anomalous);
});

/** The CLI as a child process (the server runs in this process, so no spawnSync). */
function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, PATCHCORE_DEBUG: '' } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

test('predict --url gives the rows and exit status of local predict, failing files included', async () => {
  const broken = path.join(tempDir(), 'broken.png');
  await fs.writeFile(broken, 'not an image');
  const files = [...fx.images, broken];
  const local = await cli('predict', '--model', fx.dirs.alpha, '--ndjson', ...files);
  assert.equal(local.code, 3, local.err);
  const localRows = local.out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  for (const mode of [[], ['--binary']]) {
    const remote = await cli('predict', '--url', url, '--model-name', 'alpha', '--token', TOKEN, ...mode, '--ndjson', ...files);
    assert.equal(remote.code, 3, remote.err);
    const rows = remote.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(rows.length, localRows.length);
    for (const [i, r] of rows.entries()) {
      const l = localRows[i];
      assert.equal(r.file, l.file);
      assert.equal(r.model_id, l.model_id);
      assert.equal(r.threshold, l.threshold);
      assert.equal(r.error === null, l.error === null, `${r.file}: ${r.error} vs ${l.error}`);
      if (l.error === null) {
        assert.ok(close(r.score, l.score) && close(r.normalized, l.normalized));
        assert.equal(r.anomalous, l.anomalous);
      }
    }
    assert.match(rows.at(-1).error, /broken\.png|not a readable image/);
  }
  const unknown = await cli('predict', '--url', url, '--model-name', 'gamma', '--token', TOKEN, fx.images[0]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /404 unknown model 'gamma'/);
  assert.doesNotMatch(unknown.err, /at .*\.js/);
  await assert.rejects(new InferenceClient(url, 'alpha').metadata(), /401 missing or wrong bearer token/);
});

test("protocol shapes: health, server and model metadata, readiness as the spec's JSON objects", async () => {
  assert.deepEqual(await get('/v2/health/live', {}), { status: 200, body: { live: true } }); // probes need no token
  assert.deepEqual(await get('/v2/health/ready', {}), { status: 200, body: { live: true, ready: true } });
  const server = await get('/v2');
  assert.equal(server.status, 200);
  assert.deepEqual(Object.keys(server.body).sort(), ['extensions', 'name', 'version']);
  assert.equal(typeof server.body.name, 'string');
  assert.equal(typeof server.body.version, 'string');
  assert.ok((server.body.extensions as string[]).includes('binary_tensor_data'));
  for (const name of ['alpha', 'beta']) {
    for (const p of [`/v2/models/${name}`, `/v2/models/${name}/versions/1`]) {
      const m = await get(p);
      assert.equal(m.status, 200);
      assert.deepEqual(Object.keys(m.body).sort(), ['inputs', 'name', 'outputs', 'parameters', 'platform', 'versions']);
      assert.equal(m.body.name, name);
      assert.deepEqual(m.body.versions, ['1']);
      for (const t of [...(m.body.inputs as object[]), ...(m.body.outputs as object[])]) assert.deepEqual(Object.keys(t).sort(), ['datatype', 'name', 'shape']);
      assert.deepEqual(m.body.inputs, [
        { name: 'image', datatype: 'FP32', shape: [-1, 3, 224, 224] },
        { name: 'image_bytes', datatype: 'BYTES', shape: [-1] },
      ]);
      assert.deepEqual(
        (m.body.outputs as { name: string }[]).map((o) => o.name),
        ['score', 'normalized', 'anomalous', 'anomaly_map'],
      );
      assert.equal((m.body.parameters as { model_id: string }).model_id, fx.local[name as 'alpha'].modelId);
    }
    assert.deepEqual(await get(`/v2/models/${name}/ready`), { status: 200, body: { name, ready: true } });
  }
  // errors: {"error": "..."} only
  for (const [p, status] of [
    ['/v2/models/nope', 404],
    ['/v2/models/alpha/versions/7', 404],
    ['/v2/models/alpha/versions/7/ready', 404],
    ['/v2/nothing', 404],
  ] as const) {
    const r = await get(p);
    assert.equal(r.status, status, p);
    assert.deepEqual(Object.keys(r.body), ['error'], p);
  }
  const unauth = await get('/v2/models/alpha', {});
  assert.equal(unauth.status, 401);
  assert.deepEqual(Object.keys(unauth.body), ['error']);
});

test('bad requests: 400 naming the tensor, 404 unknown model or version, 413 too large', async () => {
  const infer = (body: object, p = '/v2/models/alpha/infer') => post(p, JSON.stringify(body), { 'content-type': 'application/json' });
  const png = (await fs.readFile(fx.images[0])).toString('base64');
  const cases: [object, number, RegExp, string?][] = [
    [{ inputs: [{ name: 'image_bytes', datatype: 'INT32', shape: [1], data: [png] }] }, 400, /image_bytes.*expected datatype BYTES but received INT32/],
    [{ inputs: [{ name: 'image_bytes', datatype: 'FP8', shape: [1], data: [png] }] }, 400, /image_bytes.*unknown datatype 'FP8'/],
    [{ inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, 100, 100], data: [0] }] }, 400, /input 'image': expected shape \[N,3,224,224\]/],
    [{ inputs: [{ name: 'image_bytes', datatype: 'BYTES', shape: [2], data: [png] }] }, 400, /image_bytes.*1 elements but shape \[2\] needs 2/],
    [{ inputs: [{ name: 'pixels', datatype: 'BYTES', shape: [1], data: [png] }] }, 400, /unknown input 'pixels'/],
    [{ inputs: [{ name: 'image_bytes', datatype: 'BYTES', shape: [1], data: ['aGVsbG8='] }] }, 400, /image_bytes\[0\]: not a readable image/],
    [{ inputs: [{ name: 'image_bytes', datatype: 'BYTES', shape: [1], data: [png] }], outputs: [{ name: 'heat' }] }, 400, /unknown output 'heat'/],
    [{ inputs: [{ name: 'image_bytes', datatype: 'BYTES', shape: [5], data: [png, png, png, png, png] }] }, 413, /batch of 5 exceeds the limit of 4/],
    [{ inputs: [{ name: 'image_bytes', datatype: 'BYTES', shape: [1], data: [png] }] }, 404, /unknown model 'nope'/, '/v2/models/nope/infer'],
    [{ inputs: [{ name: 'image_bytes', datatype: 'BYTES', shape: [1], data: [png] }] }, 404, /version '2' is not served/, '/v2/models/alpha/versions/2/infer'],
  ];
  for (const [body, status, message, p] of cases) {
    const r = await infer(body, p);
    assert.equal(r.status, status, `${JSON.stringify(body).slice(0, 120)}: ${r.raw.toString().slice(0, 200)}`);
    const e = r.json();
    assert.deepEqual(Object.keys(e), ['error']);
    assert.match(e.error, message);
  }
  const big = await post('/v2/models/alpha/infer', Buffer.alloc(MAX_BYTES + 1, 32));
  assert.equal(big.status, 413);
  assert.match(big.json().error, /exceeds/);
});

/** A valid binary request for `image_bytes` [1]: JSON header + 4-byte length + PNG. */
function binaryRequest(png: Buffer): { head: Buffer; body: Buffer } {
  const head = Buffer.from(
    JSON.stringify({ inputs: [{ name: 'image_bytes', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 4 + png.length } }] }),
  );
  const len = Buffer.alloc(4);
  len.writeUInt32LE(png.length);
  return { head, body: Buffer.concat([head, len, png]) };
}

test('binary parser fuzz: truncated, oversized, disagreeing lengths, unknown datatypes all get a 4xx; the server stays healthy', async () => {
  const png = await fs.readFile(fx.images[1]);
  const { head, body } = binaryRequest(png);
  const H = String(head.length);
  const rng = new Rng(7);
  const cases: { body: Buffer; header?: string; why: string }[] = [
    { body: body.subarray(0, head.length + 2), header: H, why: 'cut inside the BYTES length' },
    { body: body.subarray(0, head.length - 5), header: H, why: 'header length past the body' },
    { body: Buffer.concat([body, Buffer.from([1, 2, 3])]), header: H, why: 'bytes after the tensors' },
    { body, header: String(head.length + 1), why: 'header length one too long' },
    { body, header: String(head.length - 1), why: 'header length one too short' },
    { body, header: '-3', why: 'negative header length' },
    { body, header: '0', why: 'zero header length' },
    { body, header: 'abc', why: 'header length not a number' },
    { body, why: 'binary without the header' },
    {
      body: Buffer.from(JSON.stringify({ inputs: [{ name: 'image_bytes', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: -1 } }] })),
      header: 'x',
      why: 'negative size',
    },
  ];
  const withSize = (size: unknown, datatype = 'BYTES', shape = [1]) => {
    const h = Buffer.from(JSON.stringify({ inputs: [{ name: 'image_bytes', datatype, shape, parameters: { binary_data_size: size } }] }));
    return { body: Buffer.concat([h, body.subarray(head.length)]), header: String(h.length) };
  };
  cases.push(
    { ...withSize(png.length + 3), why: 'size one short' },
    { ...withSize(png.length + 5), why: 'size one long' },
    { ...withSize('12'), why: 'size as a string' },
  );
  cases.push({ ...withSize(png.length + 4, 'FP99'), why: 'unknown datatype' }, { ...withSize(png.length + 4, 'FP32'), why: 'FP32 on the BYTES input' });
  cases.push({ ...withSize(png.length + 4, 'BYTES', [2]), why: 'one element for shape [2]' });
  const lying = Buffer.from(body);
  lying.writeUInt32LE(png.length + 100, head.length);
  cases.push({ body: lying, header: H, why: 'element length past the data' });
  for (let i = 0; i < 40; i++) {
    const b = Buffer.from(body);
    if (i % 2) b.subarray(head.length).fill(rng.next() * 256, Math.floor(rng.next() * 8), Math.floor(rng.next() * 16));
    else b[Math.floor(rng.next() * head.length)] = Math.floor(rng.next() * 256);
    cases.push({
      body: b.subarray(0, Math.floor(rng.next() * b.length) + 1),
      header: rng.next() < 0.5 ? H : String(Math.floor(rng.next() * 2 * head.length)),
      why: `random mutation ${i}`,
    });
  }
  for (const c of cases) {
    const r = await post('/v2/models/alpha/infer', c.body, c.header === undefined ? {} : { 'inference-header-content-length': c.header });
    assert.ok(r.status >= 400 && r.status < 500, `${c.why}: ${r.status} ${r.raw.toString().slice(0, 200)}`);
    const e = JSON.parse(r.raw.toString());
    assert.equal(typeof e.error, 'string', c.why);
  }
  assert.equal((await get('/v2/health/ready', {})).status, 200);
  const ok = await post('/v2/models/alpha/infer', body, { 'inference-header-content-length': H });
  assert.equal(ok.status, 200);
  assert.ok(close(ok.json().outputs[0].data[0], (await fx.local.alpha.predict(await loadImage(fx.images[1]))).score));
});

test('reload: a new version is swapped in; a corrupt one is reported not ready and the old keeps serving', async () => {
  const root = path.join(tempDir(), 'repo');
  await copyModel(fx.dirs.alpha, path.join(root, 'm', '1'));
  const r = await ModelRepository.open(root, { load: (d) => PatchCore.open(d) });
  const s = await startServer({
    repository: r,
    get model() {
      return r.defaultModel().model;
    },
  });
  try {
    const client = new InferenceClient(s.url, 'm');
    const png = await fs.readFile(fx.images[2]);
    const before = await client.infer(png);
    assert.equal(before.modelId, fx.local.alpha.modelId);
    const inFlight = r.get('m')!; // what a request holding the model keeps
    await copyModel(fx.dirs.beta, path.join(root, 'm', '2'));
    await r.poll(); // first sight: waits until the folder stops changing
    assert.equal((await client.infer(png)).modelVersion, '1');
    await r.poll();
    const after = await client.infer(png);
    assert.equal(after.modelVersion, '2');
    assert.equal(after.modelId, fx.local.beta.modelId);
    assert.equal(inFlight.model.modelId, fx.local.alpha.modelId, 'the old object is untouched by the swap');

    await copyModel(fx.dirs.beta, path.join(root, 'm', '3'));
    await fs.writeFile(path.join(root, 'm', '3', 'model.json'), '{"format": "truncated');
    await r.poll();
    await r.poll();
    const ready3 = await fetch(`${s.url}/v2/models/m/versions/3/ready`);
    assert.equal(ready3.status, 400);
    const body3 = (await ready3.json()) as { ready: boolean; error: string };
    assert.equal(body3.ready, false);
    assert.ok(body3.error.length > 0);
    const meta = (await (await fetch(`${s.url}/v2/models/m`)).json()) as { versions: string[]; parameters: { load_errors: Record<string, string> } };
    assert.deepEqual(meta.versions, ['2']);
    assert.equal(meta.parameters.load_errors['3'], body3.error);
    assert.equal((await fetch(`${s.url}/v2/models/m/ready`)).status, 200);
    const still = await client.infer(png);
    assert.equal(still.modelVersion, '2');
    assert.ok(close(still.score, after.score));
    // a fresh start on the same folder falls back from the corrupt version 3 to version 2
    const restarted = await ModelRepository.open(root, { load: (d) => PatchCore.open(d) });
    assert.equal(restarted.get('m')!.version, '2');
    assert.deepEqual(
      restarted.versions('m').map((v) => [v.version, v.state]),
      [
        ['3', 'failed'],
        ['2', 'ready'],
      ],
    );
  } finally {
    await s.app.close();
  }
});
