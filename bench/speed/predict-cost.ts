// A saved model's per-image predict cost by stage, on a folder's test images, beside what the
// cores allow: a float32 MatMul of the search's shape and a uint8×int8 MatMulInteger, both in ORT.
//   npm run bench -- predict-cost --model DIR [--data DIR] [--images 112] [--reps 1] [--plain]
// --plain: the search without its pre-filter (NearestNeighbours.searchPlain), for the before column.
import * as os from 'node:os';
import * as path from 'node:path';
import { loadDataset } from '../../src/data/dataset.js';
import { loadImage } from '../../src/image/load.js';
import { PatchCore } from '../../src/model/patchcore.js';
import { regionsOf } from '../../src/model/regions.js';
import { imageScore } from '../../src/scoring/scores.js';
import { bankView } from '../../src/scoring/scores.js';
import { scorePatches } from '../../src/scoring/scores.js';
import { anomalyMap, toOriginal } from '../../src/scoring/anomaly-map.js';
import { NearestNeighbours } from '../../src/scoring/nn.js';
import { scoringRule } from '../../src/scoring/rules/index.js';
import { GraphAggregator } from '../../src/features/aggregate-graph.js';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { createSession, ort } from '../../src/onnx/session.js';
import { arg } from '../lib/args.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** GFLOP/s (2 per MAC) of one ORT MatMul [m,k]×[k,n], median of `reps` runs: per wall second and per CPU second. */
async function matmulRate(m: number, k: number, n: number, int8: boolean, reps = 5): Promise<{ wall: number; cpu: number }> {
  const g = new GraphBuilder('mm');
  const A = g.input('A', [m, k], int8 ? 'uint8' : 'float32');
  const B = int8
    ? g.init(
        'B',
        [k, n],
        new Int8Array(k * n).map((_, i) => ((i * 7) % 255) - 127),
      )
    : g.init(
        'B',
        [k, n],
        new Float32Array(k * n).map((_, i) => Math.sin(i)),
      );
  g.op(int8 ? 'MatMulInteger' : 'MatMul', [A, B], {}, 'Y');
  g.output('Y', [m, n], int8 ? 'int32' : 'float32');
  const s = await createSession(g.toBytes());
  const a = int8
    ? new ort.Tensor(
        'uint8',
        new Uint8Array(m * k).map((_, i) => i % 251),
        [m, k],
      )
    : new ort.Tensor(
        'float32',
        new Float32Array(m * k).map((_, i) => Math.cos(i)),
        [m, k],
      );
  const t: number[] = [],
    c: number[] = [];
  for (let r = -1; r < reps; r++) {
    const t0 = performance.now();
    const u = process.cpuUsage();
    await s.run({ A: a });
    const du = process.cpuUsage(u);
    if (r >= 0) t.push(performance.now() - t0), c.push((du.user + du.system) / 1000);
  }
  await s.release();
  return { wall: (2 * m * k * n) / (median(t) * 1e6), cpu: (2 * m * k * n) / (median(c) * 1e6) };
}

async function main(): Promise<void> {
  const shared = process.env.PATCHCORE_SHARED ?? path.resolve(process.cwd(), '..', 'shared');
  const model = await PatchCore.open(arg('model', ''));
  const ds = await loadDataset(arg('data', path.join(shared, 'datasets', 'mvtec3d_tire')));
  const files = ds.test.slice(0, Number(arg('images', '112'))).map((t) => t.file);
  const reps = Number(arg('reps', '1'));
  const { bank } = model.fitted;
  const agg = new GraphAggregator(model.config.featureDim);
  if (process.argv.includes('--plain')) model.fitted.nn = await NearestNeighbours.create(bank, { boundDims: 0 });
  const view = bankView(bank, model.fitted.nn);
  const stages = ['decode', 'preprocess', 'backbone', 'aggregate', 'search', 'score', 'map', 'toOriginal+regions', 'sum', 'predict'] as const;
  const T = Object.fromEntries(stages.map((s) => [s, [] as number[]])) as Record<(typeof stages)[number], number[]>;
  // CPU time (all threads) beside wall time: on a shared machine it moves less with the load
  const C = Object.fromEntries(stages.map((s) => [s, [] as number[]])) as Record<(typeof stages)[number], number[]>;
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  let n = 0;
  for (let rep = -1; rep < reps; rep++) {
    for (const file of rep < 0 ? files.slice(0, 3) : files) {
      const t: number[] = [performance.now()];
      const c: number[] = [cpu()];
      const mark = () => (t.push(performance.now()), c.push(cpu()));
      const img = await loadImage(file);
      mark();
      const p = await model.extractor.prepare(img);
      mark();
      const [maps] = await model.extractor.backbone.run(p.tensor);
      mark();
      const f = await agg.aggregate(maps);
      mark();
      n = f.count;
      const k = scoringRule(model.config.scoring.kind).neighbours(model.config.scoring);
      await view.search(f.data, f.count, k);
      mark();
      const ps = await scorePatches(f.data, f.gridH, f.gridW, view, model.config.scoring); // searches again: its own cost is score − search
      imageScore(ps, f.data, view, model.config.scoring);
      mark();
      const g = p.geometry;
      const map = anomalyMap(ps, g.cropW, g.cropH, model.config.scoring.sigma, model.config.mapStride);
      mark();
      if (model.pixelThreshold !== null) regionsOf(toOriginal(map, g), model.pixelThreshold);
      else toOriginal(map, g);
      mark();
      await model.predict(img);
      mark();
      if (rep < 0) continue;
      for (const [series, out] of [
        [t, T],
        [c, C],
      ] as const) {
        const d = series.slice(1).map((x, i) => x - series[i]);
        d[5] -= d[4]; // score without its search
        const dPredict = d.pop()!;
        [...d, d.reduce((a, b) => a + b, 0), dPredict].forEach((x, i) => out[stages[i]].push(x));
      }
    }
  }
  const cfg = model.config;
  console.log(
    `${ds.root}: ${files.length} images × ${reps}, ${n} patches/image, bank ${bank.size}×${bank.dim}, ${cfg.backbone.id}${model.extractor.backbone.int8 ? ' int8' : ''}; load ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  console.log('| stage | median wall ms | median CPU ms |\n|---|---|---|');
  for (const s of stages) console.log(`| ${s} | ${median(T[s]).toFixed(1)} | ${median(C[s]).toFixed(1)} |`);
  const f32 = await matmulRate(n, bank.dim, bank.size, false);
  const i8 = await matmulRate(n, bank.dim, bank.size, true);
  const searchGflop = (2 * n * bank.dim * bank.size) / 1e9;
  console.log(
    `search shape ${n}×${bank.dim}×${bank.size}: ${searchGflop.toFixed(2)} GFLOP; ORT MatMul fp32 ${f32.wall.toFixed(0)} GFLOP per wall s, ${f32.cpu.toFixed(0)} per CPU s (${((searchGflop / f32.cpu) * 1000).toFixed(1)} CPU ms); MatMulInteger u8×s8 ${i8.wall.toFixed(0)} GOP per wall s, ${i8.cpu.toFixed(0)} per CPU s; load ${os.loadavg()[0].toFixed(1)}`,
  );
}

await main();
