// Server building blocks without a model: the admission queue, the heatmap LRU, metrics text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InferenceQueue } from '../src/server/queue.js';
import { HeatmapStore } from '../src/server/heatmaps.js';
import { Metrics } from '../src/server/metrics.js';
import type { HttpError } from '../src/server/http-error.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('queue: runs up to concurrency, queues up to the limit, rejects the rest with Retry-After', async () => {
  const q = new InferenceQueue({ concurrency: 2, queue: 1, timeoutMs: 10_000 });
  let running = 0;
  let peak = 0;
  const job = async () => {
    peak = Math.max(peak, ++running);
    await sleep(30);
    running--;
    return 'ok';
  };
  const results = await Promise.allSettled(Array.from({ length: 5 }, () => q.run(job)));
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected'],
  );
  const e = (results[3] as PromiseRejectedResult).reason as HttpError;
  assert.equal(e.statusCode, 503);
  assert.match(e.headers['retry-after'], /^\d+$/);
  assert.equal(peak, 2);
  assert.equal(q.active + q.queued, 0, 'every slot released');
  assert.equal(await q.run(job), 'ok', 'usable afterwards');
});

test('queue: timeout is 504 while running (slot held until the job ends), 503 while waiting', async () => {
  const q = new InferenceQueue({ concurrency: 1, queue: 5, timeoutMs: 20 });
  const slow = q.run(() => sleep(80));
  const waiting = q.run(async () => 'never');
  await assert.rejects(slow, (e: HttpError) => e.statusCode === 504);
  await assert.rejects(waiting, (e: HttpError) => e.statusCode === 503);
  assert.equal(q.active, 1, 'the timed-out job still occupies its slot');
  await sleep(80);
  assert.equal(q.active, 0);
  assert.equal(q.queued, 0);
});

test('queue: a failing job frees its slot and passes its error through', async () => {
  const q = new InferenceQueue({ concurrency: 1, queue: 0, timeoutMs: 1000 });
  await assert.rejects(
    q.run(async () => {
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.equal(q.active, 0);
});

test('heatmap store: LRU by count and bytes, renders a PNG once', async () => {
  const img = { width: 4, height: 4, data: new Uint8Array(48) };
  const map = { width: 4, height: 4, data: new Float32Array(16).map((_, i) => i) };
  const s = new HeatmapStore(2, 1e9);
  s.put('a', img, map, 1, 2);
  s.put('b', img, map, 1, 2);
  assert.ok(await s.get('a')); // a is now the most recent
  s.put('c', img, map, 1, 2);
  assert.equal(await s.get('b'), null, 'least recently used evicted');
  const png = await s.get('a');
  assert.deepEqual([...png!.subarray(1, 4)], [...Buffer.from('PNG')]);
  assert.equal(await s.get('a'), png, 'cached');
  const tiny = new HeatmapStore(100, 200); // each entry is 48 + 64 bytes
  tiny.put('x', img, map, 1, 2);
  tiny.put('y', img, map, 1, 2);
  assert.equal(tiny.size, 1);
  assert.ok(await tiny.get('y'));
});

test('metrics: Prometheus text with counters and cumulative buckets', () => {
  const m = new Metrics();
  m.request('/v1/predict', 'POST', 200, 0.2);
  m.request('/v1/predict', 'POST', 200, 3);
  m.request('/v1/predict', 'POST', 503, 0.001);
  const text = m.render({ g: ['help', 7] });
  assert.match(text, /^patchcore_http_requests_total\{route="\/v1\/predict",method="POST",status="200"\} 2$/m);
  assert.match(text, /^patchcore_http_request_duration_seconds_bucket\{route="\/v1\/predict",le="0.25"\} 2$/m);
  assert.match(text, /^patchcore_http_request_duration_seconds_bucket\{route="\/v1\/predict",le="\+Inf"\} 3$/m);
  assert.match(text, /^patchcore_http_request_duration_seconds_count\{route="\/v1\/predict"\} 3$/m);
  assert.match(text, /^patchcore_inference_duration_seconds_count 0$/m);
  assert.match(text, /^# TYPE g gauge\ng 7$/m);
});

test('queue: a waiter whose deadline passed while the event loop was blocked does not get the slot', async () => {
  const q = new InferenceQueue({ concurrency: 1, queue: 1, timeoutMs: 5 });
  const busy = q.run(async () => {
    await sleep(0); // let the second request queue up first
    const t = Date.now();
    while (Date.now() - t < 30); // synchronous work: the waiter's timer cannot fire meanwhile
  });
  let ran = false;
  const waiting = q.run(async () => {
    ran = true;
  });
  await busy; // finished before its timer could fire: its result stands
  await assert.rejects(waiting, (e: HttpError) => e.statusCode === 503);
  assert.equal(ran, false);
  assert.equal(q.active + q.queued, 0);
});
