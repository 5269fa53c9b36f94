// Downloads against a loopback server: checksum refusal, Range resume, and the offline advice.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { downloadVerified, fetchWeights } from '../src/backbone/weights/download.js';
import { weightsPath } from '../src/backbone/weights/catalog.js';
import { sha256 } from '../src/util/hash.js';
import { UserError } from '../src/util/errors.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pc-dl-'));
process.env.PATCHCORE_CACHE = path.join(dir, 'cache');

const body = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 31) % 251);
const requests: IncomingMessage[] = [];
// Serves `body`, honouring `Range: bytes=N-` with a 206 like a real CDN.
const server = createServer((req, res) => {
  requests.push(req);
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const from = m ? Number(m[1]) : 0;
  if (from >= body.length) return void res.writeHead(416).end();
  res.writeHead(m ? 206 : 200, { 'content-length': body.length - from });
  res.end(body.subarray(from));
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/model.safetensors`;
after(() => server.close());

test('a checksum mismatch is refused and the partial file deleted', async () => {
  const dest = path.join(dir, 'bad.safetensors');
  await assert.rejects(downloadVerified(url, dest, 'ab'.repeat(32)), (e: unknown) => e instanceof UserError && /checksum mismatch/.test(e.message));
  assert.equal(existsSync(`${dest}.part`), false);
  assert.equal(existsSync(dest), false);
});

test('a partial download resumes with a Range request and lands verified', async () => {
  const dest = path.join(dir, 'good.safetensors');
  writeFileSync(`${dest}.part`, body.subarray(0, 40_000));
  const seen: number[] = [];
  requests.length = 0;
  await downloadVerified(url, dest, sha256(body), (done) => seen.push(done));
  assert.equal(requests[0].headers.range, 'bytes=40000-');
  assert.deepEqual(new Uint8Array(readFileSync(dest)), body);
  assert.equal(seen.at(-1), body.length);
  assert.ok(seen[0] > 40_000, 'progress counts the resumed bytes');
  assert.equal(existsSync(`${dest}.part`), false);
});

test('fetchWeights refuses a mirror serving other bytes than the catalogue checksum', async () => {
  await assert.rejects(fetchWeights('resnet18', { url, onProgress: () => {} }), /checksum mismatch/);
  assert.equal(existsSync(weightsPath('resnet18')), false);
});

test('offline: fetchWeights says which URL to fetch, where to put it, and --weights', async () => {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r)); // nothing listens there now: connection refused
  const dead = `http://127.0.0.1:${port}/resnet18.safetensors`;
  await assert.rejects(fetchWeights('resnet18', { url: dead }), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.ok(e.message.includes(dead) && e.message.includes(weightsPath('resnet18')), e.message);
    assert.match(e.message, /--weights FILE/);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  });
});
