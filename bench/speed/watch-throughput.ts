// Watched folder -> MQTT at the default preset: parts dropped into `serve --watch` (atomic renames,
// all at once or at --rate per second), each timed from its rename to its MQTT message at a local
// Mosquitto. Prints throughput, latency p50/p99 and lost/duplicated parts.
// Run: nice -n 5 npm run bench -- watch-throughput [--parts 1000] [--train 20] [--rate 0]
//      [--data ../shared/datasets/mvtec3d_tire]
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { arg } from '../lib/args.js';
import { freePort, MOSQUITTO } from '../lib/loopback.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const parts = Number(arg('parts', '1000'));
const train = Number(arg('train', '20'));
const rate = Number(arg('rate', '0'));
const data = arg('data', path.resolve('..', 'shared', 'datasets', 'mvtec3d_tire'));

async function images(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile() && /\.(png|jpe?g)$/i.test(e.name)) out.push(path.join(e.parentPath, e.name));
  return out.sort();
}

const pct = (s: number[], p: number) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))];

async function main(): Promise<void> {
  if (!MOSQUITTO) throw new Error('mosquitto is not installed (apt-get install mosquitto)');
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'pc-watch-bench-'));
  const children: ChildProcess[] = [];
  try {
    const trainDir = path.join(work, 'data', 'train', 'good');
    await fs.mkdir(trainDir, { recursive: true });
    for (const f of (await images(path.join(data, 'train', 'good'))).slice(0, train)) await fs.symlink(f, path.join(trainDir, path.basename(f)));
    const modelDir = path.join(work, 'model');
    let t = performance.now();
    const fit = spawn(process.execPath, [CLI, 'fit', '--data', path.join(work, 'data'), '--out', modelDir, '--quiet'], { stdio: 'inherit' });
    if ((await new Promise((r) => fit.on('exit', r))) !== 0) throw new Error('fit failed');
    console.log(`fit (default preset, ${train} train images): ${((performance.now() - t) / 1000).toFixed(1)} s`);

    const port = await freePort();
    const conf = path.join(work, 'mosquitto.conf');
    await fs.writeFile(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
    children.push(spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore' }));
    await new Promise((r) => setTimeout(r, 500));
    const url = `mqtt://127.0.0.1:${port}`;
    const got = new Map<string, number[]>();
    const sub = await mqtt.connectAsync(url, { clientId: 'bench-sub' });
    sub.on('message', (topic, payload) => {
      if (topic !== 'bench/parts') return;
      const m = JSON.parse(payload.toString()) as { source: string };
      const list = got.get(m.source) ?? [];
      list.push(performance.now());
      got.set(m.source, list);
    });
    await sub.subscribeAsync('bench/parts', { qos: 2 }); // the station publishes at QoS 2: exactly once end to end

    const watch = path.join(work, 'in');
    await fs.mkdir(watch);
    const serve = spawn(
      process.execPath,
      [CLI, 'serve', '--model', modelDir, '--port', '0', '--record', path.join(work, 'record'), '--watch', watch, '--mqtt', url, '--mqtt-topic', 'bench/parts'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(serve);
    await new Promise<void>((resolve) => serve.stdout!.on('data', (d: Buffer) => d.toString().includes('listening') && resolve()));

    const sources = await images(path.join(data, 'test'));
    const bytes = await Promise.all(sources.map((f) => fs.readFile(f)));
    const written = new Map<string, number>();
    t = performance.now();
    for (let i = 0; i < parts; i++) {
      const name = `part_${String(i).padStart(5, '0')}${path.extname(sources[i % sources.length])}`;
      const tmp = path.join(watch, `.${name}.tmp`);
      await fs.writeFile(tmp, bytes[i % bytes.length]);
      await fs.rename(tmp, path.join(watch, name));
      written.set(name, performance.now());
      if (rate > 0) await new Promise((r) => setTimeout(r, Math.max(0, t + ((i + 1) * 1000) / rate - performance.now())));
    }
    const dropped = performance.now();
    const deadline = dropped + 3_600_000;
    while ([...written.keys()].some((n) => !got.has(n)) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 1000)); // late duplicates
    const lat = [...written]
      .filter(([n]) => got.has(n))
      .map(([n, w]) => (got.get(n)![0] - w) / 1000)
      .sort((a, b) => a - b);
    const last = Math.max(...[...got.values()].map((l) => l[0]));
    const lost = [...written.keys()].filter((n) => !got.has(n)).length;
    const dup = [...got.values()].reduce((a, l) => a + l.length - 1, 0);
    console.log(
      `parts ${parts} (${sources.length} test images of ${path.basename(data)} cycled), dropped in ${((dropped - t) / 1000).toFixed(1)} s${rate ? ` at ${rate}/s` : ' (as fast as renames go)'}`,
    );
    console.log(
      `throughput ${(parts / ((last - t) / 1000)).toFixed(2)} parts/s; latency written -> MQTT p50 ${pct(lat, 0.5).toFixed(2)} s, p99 ${pct(lat, 0.99).toFixed(2)} s, max ${lat.at(-1)!.toFixed(2)} s`,
    );
    console.log(
      `lost ${lost}, duplicated ${dup}; load ${os
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')}, ${os.cpus().length} cores`,
    );
    await sub.endAsync();
  } finally {
    for (const c of children.reverse()) c.kill('SIGTERM');
    await fs.rm(work, { recursive: true, force: true }).catch(() => undefined);
  }
}

await main();
