// The exact search's lower-bound pre-filter (scoring/nn-bound.ts) against the plain full-dim
// ranking (searchPlain), side by side in one process on a saved model and a folder's test images:
// alternating rounds of predict over every image, each round once with each search.
//   npm run bench -- search-bound --model DIR [--data DIR] [--images 112] [--rounds 3] [--dims 128]
import * as os from 'node:os';
import * as path from 'node:path';
import { loadDataset } from '../../src/data/dataset.js';
import { loadImage } from '../../src/image/load.js';
import { PatchCore } from '../../src/model/patchcore.js';
import { NearestNeighbours } from '../../src/scoring/nn.js';
import type { RgbImage } from '../../src/types.js';
import { arg } from '../lib/args.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const load = () => os.loadavg()[0].toFixed(1);

async function main(): Promise<void> {
  const shared = process.env.PATCHCORE_SHARED ?? path.resolve(process.cwd(), '..', 'shared');
  const model = await PatchCore.open(arg('model', ''));
  const ds = await loadDataset(arg('data', path.join(shared, 'datasets', 'mvtec3d_tire')));
  const images: RgbImage[] = await Promise.all(ds.test.slice(0, Number(arg('images', '112'))).map((t) => loadImage(t.file)));
  const { bank } = model.fitted;
  const dims = Number(arg('dims', '128'));
  const variants = {
    plain: await NearestNeighbours.create(bank, { boundDims: 0 }),
    bound: await NearestNeighbours.create(bank, { boundDims: dims }),
  };
  const t0 = performance.now();
  await variants.bound.search(bank.data.subarray(0, bank.dim), 1, 1); // builds the basis and graph
  console.log(
    `${ds.root}: ${images.length} images, bank ${bank.size}×${bank.dim}, pre-filter ${dims} dims built in ${(performance.now() - t0).toFixed(0)} ms; load ${load()}`,
  );
  const features = [];
  for (const img of images) features.push((await model.extractor.extract(img)).features);
  const scores: Record<string, number[]> = { plain: [], bound: [] };
  const maps: Record<string, Float32Array[]> = { plain: [], bound: [] };
  const rounds = Number(arg('rounds', '3'));
  console.log('| round | search | predict median ms | p90 ms | search-only median ms | load |\n|---|---|---|---|---|---|');
  for (let r = 0; r < rounds; r++) {
    for (const name of (r % 2 ? ['bound', 'plain'] : ['plain', 'bound']) as (keyof typeof variants)[]) {
      model.fitted.nn = variants[name];
      const total: number[] = [],
        search: number[] = [];
      for (const [i, img] of images.entries()) {
        const a = performance.now();
        const res = await model.predict(img);
        total.push(performance.now() - a);
        if (r === 0) (scores[name][i] = res.score), (maps[name][i] = res.map.data);
        const f = features[i];
        const b = performance.now();
        await variants[name].search(f.data, f.count, 1);
        search.push(performance.now() - b);
      }
      const p90 = [...total].sort((x, y) => x - y)[Math.floor(total.length * 0.9)];
      console.log(`| ${r + 1} | ${name} | ${median(total).toFixed(1)} | ${p90.toFixed(1)} | ${median(search).toFixed(1)} | ${load()} |`);
    }
  }
  let dScore = 0,
    dMap = 0,
    differ = 0;
  for (let i = 0; i < images.length; i++) {
    dScore = Math.max(dScore, Math.abs(scores.plain[i] - scores.bound[i]));
    if (scores.plain[i] !== scores.bound[i]) differ++;
    for (let j = 0; j < maps.plain[i].length; j++) dMap = Math.max(dMap, Math.abs(maps.plain[i][j] - maps.bound[i][j]));
  }
  console.log(
    `max |score difference| ${dScore.toExponential(2)} (${differ} of ${images.length} scores not bit-equal), max |map difference| ${dMap.toExponential(2)}`,
  );
}

await main();
