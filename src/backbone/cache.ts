// On-disk cache of built backbone graphs: $PATCHCORE_CACHE or ~/.cache/patchcore-ts.
// Each file has a .sha256 sidecar; a mismatch (truncated write, disk corruption) triggers a rebuild.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { sha256 } from '../util/hash.js';

export function cacheDir(): string {
  return process.env.PATCHCORE_CACHE || path.join(os.homedir(), '.cache', 'patchcore-ts');
}

export interface CachedFile {
  path: string;
  hash: string;
}

/** Return the cached file `name`, verified; build and store it when absent or corrupt. */
export async function cached(name: string, build: () => Promise<Uint8Array>): Promise<CachedFile> {
  const file = path.join(cacheDir(), name);
  const verified = await verify(file);
  if (verified) return { path: file, hash: verified };
  const bytes = await build();
  const hash = sha256(bytes);
  await writeFileAtomic(file, bytes);
  await writeFileAtomic(`${file}.sha256`, hash + '\n');
  return { path: file, hash };
}

/** The file's sha256 when it matches its sidecar, else null. */
export async function verify(file: string): Promise<string | null> {
  try {
    const [bytes, expect] = await Promise.all([fs.readFile(file), fs.readFile(`${file}.sha256`, 'utf8')]);
    const hash = sha256(bytes);
    return hash === expect.trim() ? hash : null;
  } catch {
    return null;
  }
}

/** A cached graph whose verified sha256 is `hash` (e.g. the one a saved model was fitted with), or null. */
export async function findCachedByHash(hash: string): Promise<CachedFile | null> {
  let names: string[];
  try {
    names = await fs.readdir(cacheDir());
  } catch {
    return null;
  }
  for (const n of names.filter((x) => x.endsWith('.sha256'))) {
    const sidecar = await fs.readFile(path.join(cacheDir(), n), 'utf8').catch(() => '');
    if (sidecar.trim() !== hash) continue;
    const file = path.join(cacheDir(), n.slice(0, -'.sha256'.length));
    if ((await verify(file)) === hash) return { path: file, hash };
  }
  return null;
}
