// Predict's inputs: files, folders (recursive, sorted) and quoted globs, each with the path
// relative to the inputs' common folder, so outputs can mirror the inputs and never collide.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { IMAGE_EXT } from './dataset.js';
import { UserError } from '../util/errors.js';

export interface InputFile {
  /** As found (for reports): the path given, or the folder/glob joined with the match. */
  file: string;
  /** Relative to the common folder of all inputs: `good/000.png`. */
  rel: string;
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await fs.readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (IMAGE_EXT.test(e.name)) out.push(p);
  }
  return out;
}

/**
 * Expand the positional arguments in order. A path that does not exist stays as given (it becomes
 * an error row when read); a folder without images or a glob without matches is a bad invocation.
 */
export async function expandInputs(args: string[]): Promise<InputFile[]> {
  const files: string[] = [];
  for (const a of args) {
    const stat = await fs.stat(a).catch(() => null);
    if (stat?.isDirectory()) {
      const found = await walk(a);
      if (found.length === 0) throw new UserError(`${a}: folder has no images (.png, .jpg, .jpeg, .tif, .tiff, .webp, .bmp)`);
      files.push(...found);
    } else if (!stat && isDynamicPattern(a)) {
      const found = (await glob(a, { onlyFiles: true, expandDirectories: false })).filter((f) => IMAGE_EXT.test(f)).sort();
      if (found.length === 0) throw new UserError(`${a}: no image matches this pattern`);
      files.push(...found);
    } else {
      files.push(a);
    }
  }
  const unique = [...new Set(files)];
  const base = commonFolder(unique.map((f) => path.dirname(path.resolve(f))));
  return unique.map((file) => ({ file, rel: path.relative(base, path.resolve(file)) }));
}

function commonFolder(dirs: string[]): string {
  if (dirs.length === 0) return process.cwd();
  let parts = dirs[0].split(path.sep);
  for (const d of dirs.slice(1)) {
    const q = d.split(path.sep);
    let i = 0;
    while (i < parts.length && i < q.length && parts[i] === q[i]) i++;
    parts = parts.slice(0, i);
  }
  return parts.join(path.sep) || path.sep;
}

/** `good/000.png` -> `OUT/good/000<suffix>`. */
export function mirrorPath(out: string, rel: string, suffix: string): string {
  return path.join(out, rel.replace(/\.[^./\\]+$/, '') + suffix);
}
