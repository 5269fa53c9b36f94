// Loopback load test of `patchcore serve`: N concurrent clients POST synthetic images for a fixed
// time; prints throughput, latency percentiles and errors by status.
// Run: npm run bench -- load [--url URL] [--token T] [--seconds 30] [--connections 4]
// Without --url it fits a small synthetic model and starts `patchcore serve` on a free port.
import { spawn, type ChildProcess } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { mkdtempSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { syntheticSample, writeSyntheticDataset, DEFECT_KINDS } from '../../src/data/synthetic.js';
import { encodePng } from '../../src/image/load.js';

const { values: v } = parseArgs({
  options: { url: { type: 'string' }, token: { type: 'string' }, seconds: { type: 'string', default: '30' }, connections: { type: 'string', default: '4' } },
});
const seconds = Math.min(600, Number(v.seconds));
const connections = Math.min(256, Number(v.connections));
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function run(args: string[]): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
}

/** Fit on synthetic images, start `serve --port 0`, resolve with its URL. */
async function startLocalServer(): Promise<{ url: string; child: ChildProcess }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pc-load-'));
  const data = await writeSyntheticDataset(path.join(dir, 'data'), { size: 224, train: 8, testGood: 0, testPerDefect: 0 });
  const fit = run(['fit', '--data', data, '--out', path.join(dir, 'model'), '--resize', '224', '--crop', '224', '--coreset', '0.25', '--quiet']);
  if ((await new Promise((r) => fit.on('exit', r))) !== 0) throw new Error('fit failed');
  const child = run(['serve', '--model', path.join(dir, 'model'), '--port', '0']);
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /listening on (http:\/\/[^\s/]+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}`)));
  });
  return { url, child };
}

const pct = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);

async function main(): Promise<void> {
  const local = v.url ? null : await startLocalServer();
  const url = v.url ?? local!.url;
  const images = await Promise.all(
    ['good', 'good', ...DEFECT_KINDS].map(async (k, i) => new Uint8Array(await encodePng(syntheticSample(7000 + i, k as 'good', 224).image))),
  );
  const headers: Record<string, string> = { 'content-type': 'image/png', ...(v.token ? { authorization: `Bearer ${v.token}` } : {}) };
  const latencies: number[] = [];
  const statuses = new Map<string, number>();
  const end = Date.now() + seconds * 1000;
  let n = 0;
  const client = async () => {
    while (Date.now() < end) {
      const body = images[n++ % images.length];
      const t0 = performance.now();
      let key: string;
      try {
        const res = await fetch(`${url}/v1/predict`, { method: 'POST', body, headers, signal: AbortSignal.timeout(60_000) });
        await res.arrayBuffer();
        key = String(res.status);
        if (res.ok) latencies.push(performance.now() - t0);
        // A polite client honours Retry-After instead of hammering an overloaded server.
        if (res.status === 503)
          await new Promise((r) => setTimeout(r, Math.min(Number(res.headers.get('retry-after') ?? 1) * 1000, Math.max(0, end - Date.now()))));
      } catch (e) {
        key = (e as Error).name;
      }
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: connections }, client));
  const wall = (performance.now() - t0) / 1000;
  local?.child.kill('SIGTERM');
  latencies.sort((a, b) => a - b);
  const total = [...statuses.values()].reduce((a, b) => a + b, 0);
  const errors = total - (statuses.get('200') ?? 0);
  console.log(`load: ${connections} connections, ${wall.toFixed(1)} s, ${os.cpus().length} CPUs, ${url}${local ? ' (local serve, defaults)' : ''}`);
  console.log(`  requests ${total}, ok ${latencies.length}, throughput ${(latencies.length / wall).toFixed(2)} img/s`);
  console.log(
    `  latency ms: p50 ${pct(latencies, 50).toFixed(0)}, p90 ${pct(latencies, 90).toFixed(0)}, p99 ${pct(latencies, 99).toFixed(0)}, max ${(latencies.at(-1) ?? NaN).toFixed(0)}`,
  );
  console.log(`  errors ${errors}; by status: ${[...statuses].map(([k, c]) => `${k}=${c}`).join(' ')}`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
