// A PatchCore model fitted on synthetic good images (inception_v3), shared by the test files.
import * as path from 'node:path';
import { tempDir } from './helpers.js';
import { syntheticSample } from '../src/data/synthetic.js';
import { loadBackbone } from '../src/backbone/index.js';
import { PatchCore } from '../src/model/patchcore.js';
import { DEFAULT_SCORING } from '../src/model/config.js';
import { encodePng } from '../src/image/load.js';
import { writeFileAtomic } from '../src/util/atomic.js';
import type { Precision } from '../src/backbone/int8.js';

export const SIZE = 224; // no resize/crop loss: maps align with the synthetic masks pixel for pixel

/** Fit on `files`, or on `train` synthetic good images (seeds 500…) written to a temp dir. */
export async function fitSynthetic(
  o: { train?: number; files?: string[]; ratio?: number; precision?: Precision } = {},
): Promise<{ model: PatchCore; dir: string }> {
  const dir = tempDir();
  let files = o.files;
  if (!files) {
    files = [];
    for (let i = 0; i < (o.train ?? 16); i++) {
      const f = path.join(dir, `good_${i}.png`);
      await writeFileAtomic(f, await encodePng(syntheticSample(500 + i, 'good', SIZE).image));
      files.push(f);
    }
  }
  const model = await PatchCore.fit(files, await loadBackbone('inception_v3'), {
    preprocess: { resize: SIZE, crop: SIZE },
    background: null,
    featureDim: 0,
    ratio: o.ratio ?? 0.25,
    seed: 0,
    scoring: DEFAULT_SCORING,
    precision: o.precision,
  });
  return { model, dir };
}
