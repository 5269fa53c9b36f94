// Shared by the server and browser tests: a model fitted on synthetic washers, sample images,
// and a server on an ephemeral loopback port.
import * as path from 'node:path';
import './helpers.js';
import { tempDir } from './helpers.js';
import { writeSyntheticDataset, syntheticSample, type DefectKind } from '../src/data/synthetic.js';
import { trainImages } from '../src/data/dataset.js';
import type { PatchCore } from '../src/model/patchcore.js';
import { encodePng } from '../src/image/load.js';
import { buildServer, type ServerOptions } from '../src/server/app.js';

import { fitSynthetic, SIZE } from './fit-fixture.js';
export { SIZE };

export async function fitTestModel(): Promise<{ model: PatchCore; dir: string }> {
  const dir = tempDir('pc-serve-');
  const data = await writeSyntheticDataset(path.join(dir, 'data'), { size: SIZE, train: 8, testGood: 0, testPerDefect: 0 });
  const { model } = await fitSynthetic({ files: await trainImages(data) });
  return { model, dir };
}

export function samplePng(kind: DefectKind, seed: number, size = SIZE): Promise<Buffer> {
  return encodePng(syntheticSample(seed, kind, size).image);
}

export async function startServer(o: ServerOptions) {
  const app = await buildServer(o);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url };
}
