// What `--foreground auto` decides on each set at the default extraction, from the training
// features alone (no test features, no runs): where it declines, the eval is `off`'s on the same
// seeds, so its paired difference against off is zero and only the sets it turns on need bench/studies/grid.ts.
//   npm run bench -- foreground-auto --set screw,tex-dust [--extract inception_v3/352/none/int8] [--seeds 0,1,2]
// Each seed draws its own PCA sample and agreement images, as fit --seed does.
import * as os from 'node:os';
import * as path from 'node:path';
import { loadDataset } from '../../src/data/dataset.js';
import { loadBackbone } from '../../src/backbone/index.js';
import { createExtractor } from '../../src/model/extract.js';
import { FeatureStore } from '../../src/memory/index.js';
import { fitForeground } from '../../src/foreground/fit.js';
import { presetNamed } from '../lib/settings.js';
import { arg } from '../lib/args.js';

const SHARED = process.env.PATCHCORE_SHARED ?? path.resolve(process.cwd(), '..', 'shared');
const SETS: Record<string, string> = { screw: 'mvtec_screw', tire: 'mvtec3d_tire', mpdd: 'mpdd_plate' };
const TILES = process.env.PATCHCORE_TILES ?? '/tmp/patchcore-texture-tiles';

async function main(): Promise<void> {
  const p = presetNamed(arg('extract', 'inception_v3/352/none/int8'));
  const backbone = await loadBackbone(p.backbone);
  for (const set of arg('set', 'screw').split(',')) {
    const ds = await loadDataset(SETS[set] ? path.join(SHARED, 'datasets', SETS[set]) : set.startsWith('tex-') ? path.join(TILES, set.slice(4)) : set);
    const t0 = Date.now(),
      load0 = os.loadavg()[0];
    const ex = await createExtractor(ds.train, backbone, { preprocess: p.preprocess, background: null, featureDim: p.featureDim, precision: p.precision });
    const store = new FeatureStore();
    try {
      const images = await ex.storeFiles(ds.train, store);
      await ex.release();
      for (const seed of arg('seeds', '0').split(',').map(Number)) {
        const fg = fitForeground(store, images, { mode: 'auto', seed });
        console.log(
          `${set} seed ${seed}: ${fg?.mask} (${fg?.reason}); ${ds.train.length} training images, ${((Date.now() - t0) / 1000).toFixed(0)} s, load ${load0.toFixed(1)}–${os.loadavg()[0].toFixed(1)}`,
        );
      }
    } finally {
      store.close();
    }
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
