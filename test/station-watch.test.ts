// Watched folder -> record, MQTT (a real Mosquitto on a loopback port) and a webhook receiver, with
// the server killed (SIGKILL) midway and restarted: every part judged once and recorded once; each
// arrives at the broker exactly once (QoS 2, persistent session and outgoing store), and the receiver
// processes each idempotency key once (at most the one POST in flight at the kill repeats, with the
// same key). Skips without mosquitto, fails under CI=true.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { CLI, tempDir } from './helpers.js';
import { hasMosquitto, startMosquitto, tinyModel, tinyPng } from './station-fixture.js';

const PARTS = 200;
const TOPIC = 'line1/parts';

async function until(what: string, ok: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function startServe(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+?)\/?\s/.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
  });
}

/** Slowly: three chunks 150 ms apart (the watcher must wait for the writer). Atomically: a dot-temp then a rename. */
async function drop(dir: string, name: string, bytes: Buffer, slow: boolean): Promise<void> {
  const file = path.join(dir, name);
  await fs.mkdir(path.dirname(file), { recursive: true });
  if (!slow) {
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
    await fs.writeFile(tmp, bytes);
    await fs.rename(tmp, file);
    return;
  }
  const fh = await fs.open(file, 'w');
  const third = Math.ceil(bytes.length / 3);
  for (let i = 0; i < 3; i++) {
    await fh.write(bytes.subarray(i * third, (i + 1) * third));
    await fh.sync();
    if (i < 2) await new Promise((r) => setTimeout(r, 150));
  }
  await fh.close();
}

test('watch -> record + MQTT + webhook: 200 parts, server killed midway, each part judged once and delivered exactly once', { timeout: 240_000 }, async (t) => {
  if (!hasMosquitto(t)) return;
  const work = tempDir('pc-station-watch-');
  const { dir: modelDir } = await tinyModel();
  const { broker, port } = await startMosquitto(work);
  const children: ChildProcess[] = [broker];
  const received = { mqtt: [] as string[], webhook: [] as string[] };
  let webhookCalls = 0;
  let repeatedKeys = 0;
  const processed = new Set<string>(); // a receiver as docs/SERVING.md tells it to be: each idempotency key once
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      webhookCalls++;
      if (webhookCalls % 10 === 3) return void res.writeHead(500).end(); // some attempts fail: the station retries
      const id = (JSON.parse(body) as { id: string }).id;
      assert.equal(req.headers['idempotency-key'], id, 'the idempotency key is the result id');
      if (processed.has(id)) repeatedKeys++;
      else processed.add(id), received.webhook.push(id);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const hook = `http://127.0.0.1:${(receiver.address() as net.AddressInfo).port}/hook`;
  const brokerUrl = `mqtt://127.0.0.1:${port}`;
  let sub: mqtt.MqttClient | undefined;
  try {
    await until(
      'the broker',
      () =>
        new Promise((r) =>
          net
            .connect(port, '127.0.0.1')
            .on('connect', function (this: net.Socket) {
              this.destroy();
              r(true);
            })
            .on('error', () => r(false)),
        ),
      10_000,
    );
    sub = await mqtt.connectAsync(brokerUrl, { clientId: 'test-sub', clean: true });
    sub.on('message', (topic, payload) => {
      if (topic === TOPIC) received.mqtt.push((JSON.parse(payload.toString()) as { id: string }).id);
    });
    await sub.subscribeAsync(TOPIC, { qos: 2 });

    const watchDir = path.join(work, 'in');
    const record = path.join(work, 'record');
    const args = [
      '--model',
      modelDir,
      '--port',
      '0',
      '--record',
      record,
      '--watch',
      watchDir,
      '--mqtt',
      brokerUrl,
      '--mqtt-topic',
      TOPIC,
      '--webhook',
      hook,
      '--station',
      'line1',
      '--keep-images',
      '50',
    ];
    const names = Array.from({ length: PARTS }, (_, i) => `${i % 2 ? 'cam-a' : 'cam-b'}/${String(i).padStart(3, '0')}.png`);
    const images = await Promise.all(names.map((_, i) => tinyPng(i % 7 === 0 ? 'scratch' : 'good', 1000 + i)));
    const dropAll = async (from: number, to: number) => {
      for (let i = from; i < to; i += 25)
        await Promise.all(names.slice(i, Math.min(to, i + 25)).map((n, k) => drop(watchDir, n, images[i + k], (i + k) % 3 !== 0)));
    };
    const done = async () =>
      (await fs.readdir(path.join(watchDir, '.done'), { recursive: true }).catch(() => [] as string[])).filter((f) => f.endsWith('.png')).length;

    const first = await startServe(args);
    children.push(first.child);
    await dropAll(0, 100);
    await fs.writeFile(path.join(watchDir, 'notes.txt'), 'not an image');
    await until('some parts judged', async () => (await done()) >= 40, 60_000);
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    await dropAll(100, PARTS); // written while the server is down

    const second = await startServe(args);
    children.push(second.child);
    await until(
      `all ${PARTS} parts judged and sent`,
      async () => (await done()) === PARTS && new Set(received.mqtt).size === PARTS && new Set(received.webhook).size === PARTS,
      150_000,
    );
    await new Promise((r) => setTimeout(r, 1000)); // late duplicates would show up now

    const db = new Database(path.join(record, 'results.sqlite'), { readonly: true });
    const rows = db.prepare('SELECT id, source, verdict, mqtt, webhook, image_path FROM results').all() as {
      id: string;
      source: string;
      verdict: string;
      mqtt: number;
      webhook: number;
      image_path: string | null;
    }[];
    db.close();
    assert.equal(rows.length, PARTS, 'one row per part: none lost, none judged twice');
    assert.deepEqual(rows.map((r) => r.source).sort(), [...names].sort());
    const ids = rows.map((r) => r.id).sort();
    // MQTT: the broker drops the resend of the message in flight at the kill (same packet id).
    assert.deepEqual([...received.mqtt].sort(), ids, 'each part exactly once at the broker');
    // Webhook: HTTP has no such handshake; a kill between the receiver's 2xx and the record's mark
    // repeats that one POST under the same key, which the receiver drops.
    assert.deepEqual([...received.webhook].sort(), ids, 'each idempotency key processed once at the receiver');
    assert.ok(repeatedKeys <= 1, `webhook: ${repeatedKeys} repeated keys, at most the one in flight at the kill`);
    assert.ok(
      rows.every((r) => r.mqtt === 1 && r.webhook === 1),
      'every delivery acknowledged in the record',
    );
    assert.ok(rows.some((r) => r.verdict === 'fail') && rows.some((r) => r.verdict === 'pass'));
    assert.equal(rows.filter((r) => r.image_path !== null).length, 50, '--keep-images 50');
    assert.ok(existsSync(path.join(watchDir, '.failed', 'notes.txt.error.txt')), 'a non-image is set aside with its error');
    assert.equal((await fs.readdir(watchDir)).filter((f) => !f.startsWith('.')).join(','), 'cam-a,cam-b');

    const metrics = await (await fetch(`${second.url}/metrics`)).text();
    assert.match(metrics, /patchcore_deliveries_total\{output="webhook",state="ok"\} \d+/);
    assert.match(metrics, /patchcore_webhook_retries_total [1-9]/, 'failed webhook attempts were retried');
    assert.match(metrics, /patchcore_watch_backlog 0/);
    const health = (await (await fetch(`${second.url}/healthz`)).json()) as { models: { name: string; version: string }[] };
    assert.deepEqual(
      health.models.map((m) => [m.name, m.version]),
      [['tiny', 'v1']],
    );

    const status = await mqtt.connectAsync(brokerUrl, { clientId: 'test-status' });
    const retained = new Promise<string>((r) => status.on('message', (_t, p) => r(p.toString())));
    await status.subscribeAsync(`${TOPIC}/status`, { qos: 1 });
    assert.equal((JSON.parse(await retained) as { status: string }).status, 'online', 'retained station status');
    await status.endAsync();
  } finally {
    await sub?.endAsync();
    for (const c of children.reverse()) if (c.exitCode === null) c.kill('SIGKILL');
    receiver.close();
  }
});
