// Temp files that do not outlive their process. On Linux each file is unlinked (and its folder
// removed) right after it is opened: the data lives until the last descriptor closes, so a
// SIGKILL leaves nothing behind, and a worker thread reaches the file as /proc/self/fd/N.
// Elsewhere the folder stays until close or exit; its name carries the owner's pid, so the next
// process removes the folders of owners that died.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const SPILL_PREFIX = 'patchcore-features-';

/** `patchcore-features-<pid>-<random>`: folders made before the pid was in the name do not match. */
const OWNED = new RegExp(`^${SPILL_PREFIX}(\\d+)-`);

export interface SpillFiles {
  /** One read-write descriptor per requested name, in order. */
  fds: number[];
  /** A path another thread of this process can open each file by. */
  paths: string[];
  /** Whether the files are already gone from the file system (only their descriptors hold them). */
  unlinked: boolean;
  /** Close the descriptors and remove what is left on disk. Safe to call twice. */
  close(): void;
}

let staleChecked = false;

/** Open fresh temp files `names` in a new folder of `dir` (default the OS temp dir). */
export function openSpillFiles(names: string[], dir = os.tmpdir()): SpillFiles {
  if (!staleChecked) {
    staleChecked = true;
    removeStaleSpills(dir);
  }
  const folder = fs.mkdtempSync(path.join(dir, `${SPILL_PREFIX}${process.pid}-`));
  const fds: number[] = [];
  let unlinked = false;
  const remove = () => fs.rmSync(folder, { recursive: true, force: true });
  try {
    for (const n of names) fds.push(fs.openSync(path.join(folder, n), 'w+'));
    if (canUnlinkOpen()) {
      remove();
      unlinked = true;
    }
  } catch (e) {
    for (const fd of fds) fs.closeSync(fd);
    remove();
    throw e;
  }
  let open = true;
  const close = () => {
    if (!open) return;
    open = false;
    for (const fd of fds) fs.closeSync(fd);
    if (!unlinked) remove();
    process.off('exit', close);
  };
  if (!unlinked) process.on('exit', close);
  return { fds, paths: fds.map((fd, i) => (unlinked ? `/proc/self/fd/${fd}` : path.join(folder, names[i]))), unlinked, close };
}

/** Linux: an unlinked open file stays readable, and reachable by /proc/self/fd (not in the browser's memfs). */
function canUnlinkOpen(): boolean {
  return process.platform === 'linux' && typeof fs.unlinkSync === 'function' && fs.existsSync('/proc/self/fd');
}

/** Remove the spill folders in `dir` whose owning process is gone; returns their names. */
export function removeStaleSpills(dir = os.tmpdir()): string[] {
  if (typeof process.kill !== 'function') return [];
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = OWNED.exec(name);
    if (!m || isAlive(Number(m[1]))) continue;
    try {
      fs.rmSync(path.join(dir, name), { recursive: true, force: true });
      removed.push(name);
    } catch {
      // another process removed it first, or it is not ours to remove
    }
  }
  return removed;
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}
