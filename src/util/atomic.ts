import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { UserError } from './errors.js';

/**
 * Fail early, before any work, when `dir` cannot become a folder: the nearest existing ancestor
 * (or `dir` itself) is a file. `name` is how the caller knows the path (`--out`).
 */
export async function checkOutputDir(name: string, dir: string, shown = dir): Promise<void> {
  for (let p = path.resolve(dir); ; p = path.dirname(p)) {
    const st = await fs.stat(p).catch(() => null);
    if (st) {
      if (!st.isDirectory()) throw new UserError(`${name} ${shown}: cannot create a folder there, ${p} is a file`);
      return;
    }
    if (p === path.dirname(p)) return;
  }
}

/** Write a file atomically: temp file in the same folder, fsync, then rename. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  try {
    await fs.mkdir(path.dirname(file), { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR' || code === 'EEXIST') throw new UserError(`cannot write ${file}: a file is in the way of its folder`);
    if (code === 'EACCES' || code === 'EROFS') throw new UserError(`cannot write ${file}: ${code === 'EROFS' ? 'read-only file system' : 'permission denied'}`);
    throw e;
  }
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fh = await fs.open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}
