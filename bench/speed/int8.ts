// int8 vs fp32 backbones: batch-1 run time and feature agreement on real images.
// Usage: npm run bench -- int8 [--data DIR] [--reps 3]
// Calibrates on the first 8 train/good images (as fit does), times the next 16, alternating fp32/int8.
// Backbones: inception_v3 (offline default) and wide_resnet50_2 with random weights (speed only).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { loadBackbone } from '../../src/backbone/index.js';
import type { Backbone } from '../../src/backbone/backbone.js';
import { int8Backbone } from '../../src/backbone/int8.js';
import { loadImage } from '../../src/image/load.js';
import { preprocess } from '../../src/image/preprocess.js';
import type { Tensor } from '../../src/types.js';
import { machineLine } from './side-by-side.js';
import { randomWrn50 } from '../lib/random-wrn50.js';
import { arg } from '../lib/args.js';

const data = arg('data', path.resolve('..', 'shared', 'datasets', 'mvtec_screw'));
const reps = Number(arg('reps', '3'));

async function tensors(b: Backbone, n: number): Promise<Tensor[]> {
  const dir = path.join(data, 'train', 'good');
  const files = (await fs.readdir(dir))
    .sort()
    .slice(0, n)
    .map((f) => path.join(dir, f));
  const cfg = { resize: 256, crop: 224, mean: b.spec.mean, std: b.spec.std };
  return Promise.all(files.map(async (f) => (await preprocess(await loadImage(f), cfg)).tensor));
}

function agreement(a: Tensor, b: Tensor): { rel: number; cos: number } {
  let num = 0,
    den = 0,
    dot = 0,
    nb = 0;
  for (let i = 0; i < a.data.length; i++) {
    num += (a.data[i] - b.data[i]) ** 2;
    den += a.data[i] ** 2;
    dot += a.data[i] * b.data[i];
    nb += b.data[i] ** 2;
  }
  return { rel: Math.sqrt(num / den), cos: dot / Math.sqrt(den * nb) };
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  console.log(machineLine());
  const cases: [string, Backbone][] = [
    ['inception_v3', await loadBackbone('inception_v3')],
    ['wide_resnet50_2 (random weights)', await randomWrn50()],
  ];
  console.log('| backbone | fp32 ms/img | int8 ms/img | speed-up | shallow rel. err / cos | deep rel. err / cos | calibration |');
  console.log('|---|---|---|---|---|---|---|');
  for (const [name, fp] of cases) {
    const all = await tensors(fp, 24);
    let t = performance.now();
    const q8 = await int8Backbone(fp, all.slice(0, 8));
    const calMs = performance.now() - t;
    const test = all.slice(8);
    const ms: Record<string, number[]> = { fp: [], q8: [] };
    for (let r = 0; r < reps + 1; r++)
      for (const [key, b] of [
        ['fp', fp],
        ['q8', q8],
      ] as const)
        for (const x of test) {
          t = performance.now();
          await b.run(x);
          if (r > 0) ms[key].push(performance.now() - t); // round 0 warms up
        }
    const errs = { s: [] as { rel: number; cos: number }[], d: [] as { rel: number; cos: number }[] };
    for (const x of test.slice(0, 4)) {
      const [a] = await fp.run(x);
      const [b] = await q8.run(x);
      errs.s.push(agreement(a.shallow, b.shallow));
      errs.d.push(agreement(a.deep, b.deep));
    }
    const fmt = (e: { rel: number; cos: number }[]) => `${Math.max(...e.map((v) => v.rel)).toFixed(3)} / ${Math.min(...e.map((v) => v.cos)).toFixed(4)}`;
    const [a, b] = [median(ms.fp), median(ms.q8)];
    console.log(`| ${name} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(a / b).toFixed(2)}× | ${fmt(errs.s)} | ${fmt(errs.d)} | ${(calMs / 1000).toFixed(2)} s |`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
