// The station's feedback loop on tire, timed: fit (default preset) on the first N training goods,
// serve it in-process with a record and a token, label the first L good test images (sorted by name)
// good through POST /v1/feedback, then POST /v1/update while one client keeps predicting. Reports
// the update's wall time, the predicts during it (failures, latency against a baseline taken just
// before, which model answered) and the false alarms on the other good test images and the defects
// caught, before and after (the "simplest case", on a smaller fit).
// Run: nice -n 5 npm run bench -- feedback-swap [--train 40] [--labels 12]
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mkdtempSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { arg } from '../lib/args.js';
import { PatchCore } from '../../src/model/patchcore.js';
import { StationServices } from '../../src/server/record/setup.js';
import { buildServer } from '../../src/server/app.js';

const TIRE = path.resolve(process.env.PATCHCORE_SHARED ?? path.join(process.cwd(), '..', 'shared'), 'datasets', 'mvtec3d_tire');
const trainN = Number(arg('train', '40'));
const labelsN = Number(arg('labels', '12'));
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const TOKEN = 'bench-token-1';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const pngs = (dir: string) =>
  readdirSync(dir)
    .filter((n) => n.endsWith('.png'))
    .sort()
    .map((n) => path.join(dir, n));
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

const tmp = mkdtempSync(path.join(os.tmpdir(), 'pc-bench-feedback-'));
const train = path.join(tmp, 'train');
mkdirSync(train);
for (const f of pngs(path.join(TIRE, 'train', 'good')).slice(0, trainN)) cpSync(f, path.join(train, path.basename(f)));
const modelDir = path.join(tmp, 'model');
let t0 = Date.now();
const fit = spawnSync(process.execPath, [CLI, 'fit', '--data', train, '--out', modelDir, '--quiet'], { encoding: 'utf8' });
if (fit.status !== 0) throw new Error(`fit failed: ${fit.stderr}`);
const fitSeconds = (Date.now() - t0) / 1000;

const model = await PatchCore.open(modelDir);
const station = StationServices.open({ model, modelName: 'tire', station: 'bench', recordDir: path.join(tmp, 'record'), keepImages: 1000 });
const app = await buildServer({ model, modelDir, token: TOKEN, station, modelName: 'tire', timeoutMs: 120_000 });
const url = await app.listen({ host: '127.0.0.1', port: 0 });

type Answer = { id: string; score: number; model_id: string; verdict: string };
async function predict(file: string): Promise<{ status: number; ms: number; body: Answer }> {
  const t = performance.now();
  const res = await fetch(`${url}/v1/predict`, { method: 'POST', body: readFileSync(file), headers: { ...AUTH, 'content-type': 'image/png' } });
  return { status: res.status, ms: performance.now() - t, body: (await res.json()) as Answer };
}

const goods = pngs(path.join(TIRE, 'test', 'good'));
const defects = readdirSync(path.join(TIRE, 'test'))
  .filter((d) => d !== 'good')
  .flatMap((d) => pngs(path.join(TIRE, 'test', d)));
const [marked, others] = [goods.slice(0, labelsN), goods.slice(labelsN)];

async function judgeAll(files: string[]) {
  const out: Answer[] = [];
  for (const f of files) out.push((await predict(f)).body);
  return out;
}
const before = { others: await judgeAll(others), defects: await judgeAll(defects) };
const baseline: number[] = [];
for (const f of marked) {
  const r = await predict(f);
  baseline.push(r.ms);
  const fb = await fetch(`${url}/v1/feedback`, {
    method: 'POST',
    body: JSON.stringify({ id: r.body.id, label: 'good' }),
    headers: { ...AUTH, 'content-type': 'application/json' },
  });
  if (fb.status !== 201) throw new Error(`feedback: ${fb.status} ${await fb.text()}`);
}

let done = false;
const during: { status: number; ms: number; model_id: string }[] = [];
const client = (async () => {
  for (let i = 0; !done; i++) {
    const r = await predict(others[i % others.length]);
    during.push({ status: r.status, ms: r.ms, model_id: r.body.model_id });
  }
})();
t0 = Date.now();
const up = await fetch(`${url}/v1/update`, { method: 'POST', headers: AUTH });
const updateSeconds = (Date.now() - t0) / 1000;
done = true;
await client;
const u = (await up.json()) as {
  model_id: string;
  parent: string;
  bank: { before: number; after: number };
  threshold: { before: number; after: number; how: string };
  applied: unknown[];
  failed: unknown[];
};
if (up.status !== 200) throw new Error(`update: ${up.status} ${JSON.stringify(u)}`);
const after = { others: await judgeAll(others), defects: await judgeAll(defects) };
await app.close();

const fails = (xs: Answer[]) => xs.filter((x) => x.verdict === 'fail').length;
const ms = (xs: number[]) => `p50 ${q(xs, 0.5).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms`;
process.stdout.write(
  [
    `tire: fit on ${trainN} training goods (default preset) in ${fitSeconds.toFixed(0)} s; ${labelsN} good test images labelled good, ${others.length} others, ${defects.length} defects; load ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
    `update: ${updateSeconds.toFixed(1)} s wall, bank ${u.bank.before} -> ${u.bank.after}, threshold ${u.threshold.before.toFixed(3)} -> ${u.threshold.after.toFixed(3)} (${u.threshold.how}); applied ${u.applied.length}, failed ${u.failed.length}`,
    `predicts during the update: ${during.length}, failed ${during.filter((d) => d.status !== 200).length}, ${ms(during.map((d) => d.ms))} (old model ${during.filter((d) => d.model_id === u.parent).length}, new ${during.filter((d) => d.model_id === u.model_id).length}); baseline ${ms(baseline)}`,
    '',
    '| model | false alarms, other good test images | defects caught |',
    '|---|---|---|',
    `| before (${u.parent}) | ${fails(before.others)} of ${others.length} | ${fails(before.defects)} of ${defects.length} |`,
    `| after update (${u.model_id}) | ${fails(after.others)} of ${others.length} | ${fails(after.defects)} of ${defects.length} |`,
    '',
  ].join('\n'),
);
