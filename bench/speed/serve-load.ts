// Loopback load and faults on `patchcore serve --models`: 4 models, C clients (C/4 per model) for
// S seconds over /v2 (binary tensor data). Reports throughput and p50/p99 per model, answers from
// the wrong model (model_id not the one of the model and version named in the answer), the server's
// RSS before and after, and what happens when a new version and then a corrupt one are written
// into the repository during the load. Then, on one model, the /v2 path against /v1/predict,
// alternating v1, v2, v1, v2 (same clients, same images) so drift in the machine's load shows.
// Run: npm run bench -- serve-load [--seconds 60] [--clients 16] [--compare-seconds 15] [--compare-clients 4]
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs, mkdtempSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { arg } from '../lib/args.js';
import { syntheticSample, writeSyntheticDataset, DEFECT_KINDS } from '../../src/data/synthetic.js';
import { encodePng } from '../../src/image/load.js';
import { PatchCore } from '../../src/model/patchcore.js';

const seconds = Math.min(600, Number(arg('seconds', '60')));
const clients = Math.min(256, Number(arg('clients', '16')));
const compareSeconds = Math.min(600, Number(arg('compare-seconds', '15')));
const compareClients = Math.min(64, Number(arg('compare-clients', '4')));
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const MODELS = ['m0', 'm1', 'm2', 'm3'];
const RATIOS = [0.25, 0.2, 0.15, 0.1, 0.3]; // the fifth is m0's version 2

function run(args: string[], stdout: 'pipe' | 'ignore' = 'ignore'): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', stdout, 'inherit'] });
}

async function fitModels(dir: string): Promise<string[]> {
  const data = await writeSyntheticDataset(path.join(dir, 'data'), { size: 224, train: 8, testGood: 0, testPerDefect: 0 });
  const out: string[] = [];
  for (const [i, ratio] of RATIOS.entries()) {
    const m = path.join(dir, `fitted-${i}`);
    const fit = run(['fit', '--data', data, '--out', m, '--resize', '224', '--crop', '224', '--coreset', String(ratio), '--quiet']);
    if ((await new Promise((r) => fit.on('exit', r))) !== 0) throw new Error('fit failed');
    out.push(m);
  }
  return out;
}

async function copyDir(from: string, to: string): Promise<void> {
  await fs.mkdir(to, { recursive: true });
  for (const f of await fs.readdir(from)) await fs.copyFile(path.join(from, f), path.join(to, f));
}

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
const pct = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : Number.NaN);
/** The id local predict would report (loaded here, independently of the server). */
const modelId = async (dir: string) => (await PatchCore.open(dir)).modelId;

/** The binary /v2 request for one PNG as `image_bytes` [1]. */
function v2Body(png: Uint8Array): { body: Uint8Array<ArrayBuffer>; headerLength: string } {
  const head = Buffer.from(
    JSON.stringify({
      inputs: [{ name: 'image_bytes', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 4 + png.length } }],
      parameters: { binary_data_output: true },
    }),
  );
  const len = Buffer.alloc(4);
  len.writeUInt32LE(png.length);
  return { body: new Uint8Array(Buffer.concat([head, len, png])), headerLength: String(head.length) };
}

interface Tally {
  latencies: number[];
  failed: Map<string, number>;
  wrong: number;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pc-serve-load-'));
  const fitted = await fitModels(dir);
  const repo = path.join(dir, 'repo');
  for (const [i, name] of MODELS.entries()) await copyDir(fitted[i], path.join(repo, name, '1'));
  // what each (model, version) must answer with
  const expected = new Map<string, string>();
  for (const [i, name] of MODELS.entries()) expected.set(`${name}/1`, await modelId(fitted[i]));
  expected.set('m0/2', await modelId(fitted[4]));

  const child = run(['serve', '--models', repo, '--port', '0', '--poll-ms', '500', '--queue', '64'], 'pipe');
  let log = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => {
      log += b.toString();
      const m = /listening on (http:\/\/[^\s/]+)/.exec(log);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}`)));
  });
  const pngs = await Promise.all(
    ['good', 'good', ...DEFECT_KINDS].map(async (k, i) => new Uint8Array(await encodePng(syntheticSample(7000 + i, k as 'good', 240).image))),
  );
  const bodies = pngs.map(v2Body);
  // one warm-up request per model (first-run session setup is not what is measured)
  for (const name of MODELS) await post(url, `/v2/models/${name}/infer`, bodies[0]);
  const rssBefore = rssMb(child.pid!);

  const tallies = new Map(MODELS.map((m) => [m, { latencies: [], failed: new Map(), wrong: 0 } as Tally]));
  const versionsSeen = new Map<string, number>();
  const end = Date.now() + seconds * 1000;
  const events: string[] = [];
  const faults = (async () => {
    await sleep(seconds * 1000 * 0.3);
    await copyDir(fitted[4], path.join(repo, 'm0', '2'));
    events.push(`${elapsed(end)} s: wrote m0/2 (a new model)`);
    await sleep(seconds * 1000 * 0.3);
    await copyDir(fitted[1], path.join(repo, 'm1', '3'));
    await fs.writeFile(path.join(repo, 'm1', '3', 'model.json'), '{"format": "patchcore-ts/model@');
    events.push(`${elapsed(end)} s: wrote m1/3 with a truncated model.json`);
  })();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const name = MODELS[c % MODELS.length];
      const t = tallies.get(name)!;
      for (let n = c; Date.now() < end; n++) {
        const s = performance.now();
        const r = await post(url, `/v2/models/${name}/infer`, bodies[n % bodies.length]);
        if (r.status !== 200) {
          t.failed.set(String(r.status), (t.failed.get(String(r.status)) ?? 0) + 1);
          continue;
        }
        t.latencies.push(performance.now() - s);
        const key = `${r.json.model_name}/${r.json.model_version}`;
        versionsSeen.set(key, (versionsSeen.get(key) ?? 0) + 1);
        if (r.json.model_name !== name || expected.get(key) !== r.json.parameters.model_id) t.wrong++;
      }
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  await faults;
  const rssAfter = rssMb(child.pid!);
  // the corrupt version's error must become visible (two polls apart, then a failed load)
  let m1: { versions: string[]; parameters: { load_errors?: Record<string, string> } };
  const waitFrom = Date.now();
  do m1 = (await (await fetch(`${url}/v2/models/m1`)).json()) as typeof m1;
  while (!m1.parameters.load_errors?.['3'] && Date.now() - waitFrom < 30_000 && (await sleep(250), true));
  events.push(`error of m1/3 visible ${((Date.now() - waitFrom) / 1000).toFixed(1)} s after the load ended`);
  const ready3 = await fetch(`${url}/v2/models/m1/versions/3/ready`);

  console.log(
    `serve-load: ${MODELS.length} models, ${clients} clients, ${wall.toFixed(1)} s, ${os.cpus().length} CPUs, load ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  let total = 0;
  for (const [name, t] of tallies) {
    const l = t.latencies.sort((a, b) => a - b);
    total += l.length;
    const failed = [...t.failed].map(([k, c]) => `${k}=${c}`).join(' ') || '0';
    console.log(
      `  ${name}: ${l.length} ok, ${(l.length / wall).toFixed(2)} img/s, p50 ${pct(l, 50).toFixed(0)} ms, p99 ${pct(l, 99).toFixed(0)} ms, failed ${failed}, wrong model ${t.wrong}`,
    );
  }
  console.log(`  total ${(total / wall).toFixed(2)} img/s; answers by model/version: ${[...versionsSeen].map(([k, c]) => `${k}=${c}`).join(' ')}`);
  console.log(`  server RSS: ${rssBefore.toFixed(0)} MB before, ${rssAfter.toFixed(0)} MB after`);
  for (const e of events) console.log(`  ${e}`);
  console.log(
    `  m1 after the corrupt version: serves ${m1.versions.join(',')}; versions/3/ready -> ${ready3.status}; load_errors: ${JSON.stringify(m1.parameters.load_errors ?? {})}`,
  );
  console.log(
    `  server log:\n${log
      .trim()
      .split('\n')
      .map((l) => `    ${l}`)
      .join('\n')}`,
  );

  // /v1/predict (raw PNG) against /v2 (binary) on m0, the default model of /v1
  const rates: Record<string, number[]> = { v1: [], v2: [] };
  for (const round of ['v1', 'v2', 'v1', 'v2'] as const) {
    const stop = Date.now() + compareSeconds * 1000;
    let ok = 0;
    const s = performance.now();
    await Promise.all(
      Array.from({ length: compareClients }, async (_, c) => {
        for (let n = c; Date.now() < stop; n++) {
          const r = round === 'v1' ? await postPng(url, pngs[n % pngs.length]) : await post(url, '/v2/models/m0/infer', bodies[n % bodies.length]);
          if (r === 200 || (typeof r === 'object' && r.status === 200)) ok++;
        }
      }),
    );
    rates[round].push(ok / ((performance.now() - s) / 1000));
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(
    `compare on m0, ${compareClients} clients, ${compareSeconds} s per round (v1 v2 v1 v2): v1 ${rates.v1.map((x) => x.toFixed(2)).join(', ')} img/s; v2 ${rates.v2.map((x) => x.toFixed(2)).join(', ')} img/s; v2/v1 = ${(mean(rates.v2) / mean(rates.v1)).toFixed(3)}`,
  );
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  await fs.rm(dir, { recursive: true, force: true });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const elapsed = (end: number) => (seconds - (end - Date.now()) / 1000).toFixed(0);

async function post(url: string, p: string, b: { body: Uint8Array<ArrayBuffer>; headerLength: string }) {
  try {
    const res = await fetch(`${url}${p}`, {
      method: 'POST',
      body: b.body,
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': b.headerLength },
      signal: AbortSignal.timeout(60_000),
    });
    const raw = Buffer.from(await res.arrayBuffer());
    const n = Number(res.headers.get('inference-header-content-length') ?? raw.length);
    const json = JSON.parse(raw.subarray(0, n).toString()) as { model_name: string; model_version: string; parameters: { model_id: string } };
    return { status: res.status, json };
  } catch (e) {
    return { status: (e as Error).name, json: null as never };
  }
}

async function postPng(url: string, png: Uint8Array<ArrayBuffer>): Promise<number | string> {
  try {
    const res = await fetch(`${url}/v1/predict`, { method: 'POST', body: png, headers: { 'content-type': 'image/png' }, signal: AbortSignal.timeout(60_000) });
    await res.arrayBuffer();
    return res.status;
  } catch (e) {
    return (e as Error).name;
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
