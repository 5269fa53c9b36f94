// What a model version's folder holds, as one string: a change to any file (a new bank, an edited
// model.json) changes it, so the repository knows to load the version again.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export async function versionSignature(dir: string): Promise<string> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  const parts: string[] = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (!e.isFile()) continue;
    const st = await fs.stat(path.join(dir, e.name)).catch(() => null);
    if (st) parts.push(`${e.name}:${st.size}:${st.mtimeMs}`);
  }
  return parts.join('|');
}
