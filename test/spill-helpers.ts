// What the spill tests look for: this process's spill folders in the temp dir.
import fs from 'node:fs';
import os from 'node:os';
import { SPILL_PREFIX } from '../src/memory/spill.js';

/** Spill folders of process `pid` (default this one) in `dir` (default the OS temp dir). */
export function ownSpillFolders(pid = process.pid, dir = os.tmpdir()): string[] {
  return fs.readdirSync(dir).filter((n) => n.startsWith(`${SPILL_PREFIX}${pid}-`));
}
