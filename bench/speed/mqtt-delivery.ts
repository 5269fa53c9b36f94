// What exactly-once costs on the MQTT side alone: N pending parts in a record sent by the station's
// sink (QoS 2, persistent session, packets in the record's SQLite) against the same mqtt.js client
// sending the same messages one at a time at QoS 1 with its in-memory store (the sink before), to a
// local Mosquitto, side by side in one process. Inference is not involved: see watch-throughput.ts beside this file.
// Run: nice -n 5 npm run bench -- mqtt-delivery [--parts 2000]
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import mqtt from 'mqtt';
import { arg } from '../lib/args.js';
import { freePort, MOSQUITTO } from '../lib/loopback.js';
import { ResultStore, type ResultRow } from '../../src/server/record/store.js';
import { MqttSink } from '../../src/server/outputs/mqtt.js';
import { message } from '../../src/server/outputs/outbox.js';
import { StationMetrics } from '../../src/server/monitor/station-metrics.js';

const parts = Number(arg('parts', '2000'));
const TOPIC = 'bench/parts';

function row(i: number): ResultRow {
  return {
    id: `part-${i}`,
    time: new Date().toISOString(),
    station: 'bench',
    camera: 'cam',
    source: `p${i}.png`,
    model_name: 'm',
    model_version: 'v1',
    model_id: 'x',
    threshold: 1,
    min_area: null,
    score: 0.5,
    normalized: 0.2,
    verdict: 'pass',
    regions: null,
    label: null,
    image_path: null,
    heatmap_path: null,
  };
}

async function main(): Promise<void> {
  if (!MOSQUITTO) throw new Error('mosquitto is not installed');
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'pc-bench-mqtt-'));
  const port = await freePort();
  await fs.writeFile(path.join(work, 'm.conf'), `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\n`);
  const broker = spawn(MOSQUITTO, ['-c', path.join(work, 'm.conf')], { stdio: 'ignore' });
  const url = `mqtt://127.0.0.1:${port}`;
  try {
    await new Promise((r) => setTimeout(r, 300));
    const got = new Map<string, number>();
    const sub = await mqtt.connectAsync(url, { clientId: 'bench-sub' });
    sub.on('message', (_t, p) => {
      const id = (JSON.parse(p.toString()) as { id: string }).id;
      got.set(id, (got.get(id) ?? 0) + 1);
    });
    await sub.subscribeAsync(TOPIC, { qos: 2 });
    const wait = async (n: number) => {
      while ([...got.values()].reduce((a, b) => a + b, 0) < n) await new Promise((r) => setTimeout(r, 5));
    };

    // before: QoS 1, in-memory store, one message in flight at a time (as the outbox sends)
    const plain = await mqtt.connectAsync(url, { clientId: 'bench-qos1' });
    let t0 = performance.now();
    for (let i = 0; i < parts; i++) await plain.publishAsync(TOPIC, JSON.stringify(message(row(i))), { qos: 1 });
    await wait(parts);
    const qos1 = (performance.now() - t0) / 1000;
    await plain.endAsync();
    got.clear();

    // now: the station's sink, from the record
    const store = new ResultStore(path.join(work, 'record'));
    store.db.transaction(() => {
      for (let i = 0; i < parts; i++) store.insert(row(i), null, { mqtt: true, webhook: false });
    })();
    t0 = performance.now();
    const sink = MqttSink.open(store, { url, topic: TOPIC, station: 'bench', status: () => ({}) }, new StationMetrics());
    sink.wake();
    await wait(parts);
    while (store.pending('mqtt').length > 0) await new Promise((r) => setTimeout(r, 5));
    const qos2 = (performance.now() - t0) / 1000;
    await sink.close();
    store.close();
    const dup = [...got.values()].filter((n) => n > 1).length;
    await sub.endAsync();
    console.log(
      `parts ${parts}, load ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
    console.log(`QoS 1, in-memory store:        ${qos1.toFixed(2)} s, ${(parts / qos1).toFixed(0)} msg/s`);
    console.log(
      `QoS 2, store in the record:    ${qos2.toFixed(2)} s, ${(parts / qos2).toFixed(0)} msg/s (x${(qos2 / qos1).toFixed(2)} the time; ${got.size} distinct, ${dup} duplicated)`,
    );
  } finally {
    broker.kill('SIGKILL');
    await fs.rm(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
