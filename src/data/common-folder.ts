// The deepest folder shared by several paths: predict mirrors its inputs below it, fit fingerprints
// its training files relative to it. Kept apart from inputs.ts so the browser bundle needs no glob library.
import * as path from 'node:path';

/** The deepest folder containing all of `dirs` (absolute paths). */
export function commonFolder(dirs: string[]): string {
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

/** Each file's path relative to the files' common folder, with forward slashes (`good/000.png`). */
export function relativeNames(files: string[]): string[] {
  const abs = files.map((f) => path.resolve(f));
  const root = commonFolder(abs.map((f) => path.dirname(f)));
  return abs.map((f) => path.relative(root, f).split(path.sep).join('/'));
}
