// Where a preset's fit and predict time goes, stage by stage (the accuracy study's time budget).
//   npm run bench -- preset-stages [--data DIR] [--train 60] [--predict 20] [--presets v1,<default>] [--ratio R]
// A preset may be written out as backbone/resize/crop/precision[/dim[/ratio]] (bench/lib/settings.ts).
// Each preset fits at its own coreset ratio unless --ratio is given. Presets run alternately, in one process.
import * as os from 'node:os';
import * as path from 'node:path';
import { loadDataset } from '../../src/data/dataset.js';
import { loadBackbone } from '../../src/backbone/index.js';
import { PatchCore } from '../../src/model/patchcore.js';
import { scoreFeatures } from '../../src/model/bank.js';
import { DEFAULT_PRESET, DEFAULT_SCORING } from '../../src/model/config.js';
import { presetNamed } from '../lib/settings.js';
import { loadImage } from '../../src/image/load.js';
import { arg } from '../lib/args.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function main(): Promise<void> {
  const shared = process.env.PATCHCORE_SHARED ?? path.resolve(process.cwd(), '..', 'shared');
  const ds = await loadDataset(arg('data', path.join(shared, 'datasets', 'mvtec_screw')));
  const train = ds.train.slice(0, Number(arg('train', '60')));
  const every = Math.max(1, Math.floor(ds.test.length / Number(arg('predict', '20'))));
  const tests = await Promise.all(ds.test.filter((_, i) => i % every === 0).map((t) => loadImage(t.file)));
  const forced = arg('ratio', '');
  console.log(`${ds.root}: fit ${train.length} images, predict ${tests.length}, load ${os.loadavg()[0].toFixed(1)}`);
  console.log(
    '| preset | coreset | fit s | features s | coreset s | threshold s | predict ms p50 | extract ms | nn+map ms | bank | load |\n|---|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const name of arg('presets', `v1,${DEFAULT_PRESET}`).split(',')) {
    const p = presetNamed(name);
    const ratio = forced ? Number(forced) : p.ratio;
    const backbone = await loadBackbone(p.backbone);
    const stage: Record<string, number> = {};
    let last = performance.now();
    let current = '';
    const progress = (s: string): void => {
      const now = performance.now();
      if (current) stage[current] = (stage[current] ?? 0) + (now - last);
      current = s;
      last = now;
    };
    const t0 = performance.now();
    const model = await PatchCore.fit(train, backbone, {
      preprocess: p.preprocess,
      background: null,
      featureDim: p.featureDim,
      precision: p.precision,
      ratio,
      seed: 0,
      scoring: DEFAULT_SCORING,
      progress,
    });
    const fit = (performance.now() - t0) / 1000;
    progress('');
    await model.predict(tests[0]); // warm-up
    const total: number[] = [],
      ex: number[] = [],
      nn: number[] = [];
    for (const img of tests) {
      const a = performance.now();
      const e = await model.extractor.extract(img);
      const b = performance.now();
      await scoreFeatures(e.features, model.fitted, model.config.scoring);
      const c = performance.now();
      await model.predict(img);
      total.push(performance.now() - c), ex.push(b - a), nn.push(c - b);
    }
    const s = (k: string) => ((stage[k] ?? 0) / 1000).toFixed(1);
    const threshold =
      Object.keys(stage)
        .filter((k) => !['features', 'coreset'].includes(k))
        .reduce((a, k) => a + stage[k], 0) / 1000;
    console.log(
      `| ${name} | ${ratio} | ${fit.toFixed(1)} | ${s('features')} | ${s('coreset')} | ${threshold.toFixed(1)} | ${median(total).toFixed(0)} | ${median(ex).toFixed(0)} | ${median(nn).toFixed(0)} | ${model.config.bank.size} x ${model.config.bank.dim} | ${os.loadavg()[0].toFixed(1)} |`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
