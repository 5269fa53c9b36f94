// Which images a model was fitted on, recorded in model.json: sha256 over the sorted file names
// (relative to their common folder) and sizes. Cheap (no image is read twice), and it changes when
// an image is added, removed, renamed or replaced by one of another size.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { sha256 } from '../util/hash.js';
import { commonFolder } from './common-folder.js';

export interface TrainingFingerprint {
  images: number;
  sha256: string;
  method: string;
}

export async function trainingFingerprint(files: string[]): Promise<TrainingFingerprint> {
  const abs = files.map((f) => path.resolve(f));
  const root = commonFolder(abs.map((f) => path.dirname(f)));
  // size -1 where there is no file to stat: the browser page's images live in memory, not on a disk
  const lines = await Promise.all(
    abs.map(async (f) => `${path.relative(root, f).split(path.sep).join('/')}\t${(await fs.stat(f).catch(() => null))?.size ?? -1}`),
  );
  return {
    images: files.length,
    sha256: sha256(new TextEncoder().encode(lines.sort().join('\n'))),
    method: 'sha256 of sorted "relative/name<TAB>bytes" lines',
  };
}
