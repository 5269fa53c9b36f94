// A model repository of two small synthetic models (alpha, beta) for the /v2 tests, and the
// preprocessed tensor of an image as the exported graph takes it.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { tempDir } from './helpers.js';
import { fitSynthetic } from './fit-fixture.js';
import { PatchCore } from '../src/model/patchcore.js';
import { syntheticSample, type DefectKind } from '../src/data/synthetic.js';
import { encodePng } from '../src/image/load.js';
import { writeFileAtomic } from '../src/util/atomic.js';

export interface TwoModelRepo {
  root: string;
  /** name -> the saved version-1 directory */
  dirs: Record<'alpha' | 'beta', string>;
  /** the models as local predict loads them */
  local: Record<'alpha' | 'beta', PatchCore>;
  /** sample PNGs (240 px: resized and cropped to the models' 224) */
  images: string[];
}

const KINDS: DefectKind[] = ['good', 'scratch', 'crack', 'missing'];

export async function twoModelRepo(): Promise<TwoModelRepo> {
  const root = tempDir('pc-oip-');
  const dirs = { alpha: path.join(root, 'repo', 'alpha', '1'), beta: path.join(root, 'repo', 'beta', '1') };
  // different banks (coreset ratios): different scores and model ids
  const [a, b] = [await fitSynthetic({ train: 4, ratio: 0.25 }), await fitSynthetic({ train: 4, ratio: 0.1 })];
  await a.model.save(dirs.alpha);
  await b.model.save(dirs.beta);
  const images: string[] = [];
  for (const [i, kind] of KINDS.entries()) {
    const f = path.join(root, 'img', `${i}_${kind}.png`);
    await writeFileAtomic(f, await encodePng(syntheticSample(900 + i, kind, 240).image));
    images.push(f);
  }
  const local = { alpha: await PatchCore.open(dirs.alpha), beta: await PatchCore.open(dirs.beta) };
  return { root: path.join(root, 'repo'), dirs, local, images };
}

/** Copy a model directory (a new version written into a repository). */
export async function copyModel(from: string, to: string): Promise<void> {
  await fs.mkdir(to, { recursive: true });
  for (const f of await fs.readdir(from)) await fs.copyFile(path.join(from, f), path.join(to, f));
}
