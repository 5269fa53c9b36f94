// Fit and predict time of presets side by side (the accuracy study's time budget: a new default
// may cost at most 2x the old one). Same images, same process, presets alternated.
//   node dist/bench/preset-speed.js [--data DIR] [--train 60] [--predict 20] [--presets v1,v2] [--ratio 0.1]
// A preset may also be written out as backbone/resize/crop/precision, e.g. inception_v3/256/none/int8.
import * as os from 'node:os';
import * as path from 'node:path';
import { loadDataset } from '../src/data/dataset.js';
import { loadBackbone } from '../src/backbone/index.js';
import { PatchCore } from '../src/model/patchcore.js';
import { DEFAULT_SCORING, PRESETS, type Preset } from '../src/model/config.js';
import { loadImage } from '../src/image/load.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const shared = process.env.PATCHCORE_SHARED ?? path.resolve(process.cwd(), '..', 'shared');
  const ds = await loadDataset(arg('data', path.join(shared, 'datasets', 'mvtec_screw')));
  const train = ds.train.slice(0, Number(arg('train', '60')));
  const tests = await Promise.all(ds.test.filter((_, i) => i % Math.max(1, Math.floor(ds.test.length / Number(arg('predict', '20')))) === 0).map((t) => loadImage(t.file)));
  const ratio = Number(arg('ratio', '0.1'));
  console.log(`${ds.root}: fit ${train.length} images, predict ${tests.length}, coreset ${ratio}, load ${os.loadavg()[0].toFixed(1)}`);
  console.log('| preset | fit s | predict ms/image (p50) | bank | load |\n|---|---|---|---|---|');
  for (const name of arg('presets', 'v1,v2').split(',')) {
    const [bb, resize, crop, precision] = name.split('/');
    const p: Preset = PRESETS[name] ?? { backbone: bb, preprocess: { resize: Number(resize), crop: crop === 'none' ? 'none' : Number(crop) }, featureDim: 0, precision: precision as Preset['precision'], description: name };
    const backbone = await loadBackbone(p.backbone);
    const t0 = performance.now();
    const model = await PatchCore.fit(train, backbone, { preprocess: p.preprocess, background: null, featureDim: p.featureDim, precision: p.precision, ratio, seed: 0, scoring: DEFAULT_SCORING });
    const fit = (performance.now() - t0) / 1000;
    await model.predict(tests[0]); // warm-up
    const ms: number[] = [];
    for (const img of tests) {
      const t = performance.now();
      await model.predict(img);
      ms.push(performance.now() - t);
    }
    ms.sort((a, b) => a - b);
    console.log(`| ${name} | ${fit.toFixed(1)} | ${ms[Math.floor(ms.length / 2)].toFixed(0)} | ${model.config.bank.size} x ${model.config.bank.dim} | ${os.loadavg()[0].toFixed(1)} |`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
