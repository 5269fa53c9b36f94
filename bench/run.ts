// `npm run bench`: the side-by-side benchmark against the PyTorch reference, then every other
// bench script that exists (each in its own process, so one's memory does not count in another's RSS).
// Arguments after `--` go to the side-by-side benchmark, e.g. `npm run bench -- --rounds 1 --ratios 0.1`;
// `--only side-by-side` or `--skip side-by-side` select scripts.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main as sideBySide } from './side-by-side.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OTHERS = ['coreset', 'scoring', 'metrics-speed', 'backbones', 'int8', 'browser'];

function list(argv: string[], name: string): string[] | null {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1].split(',') : null;
}

async function run(): Promise<void> {
  const argv = process.argv.slice(2);
  const only = list(argv, 'only');
  const skip = list(argv, 'skip') ?? [];
  const want = (n: string) => (only ? only.includes(n) : !skip.includes(n));
  const failed: string[] = [];

  if (want('side-by-side')) {
    console.log('=== bench/side-by-side ===');
    try {
      await sideBySide(argv.filter((a, i) => !['--only', '--skip'].includes(a) && !['--only', '--skip'].includes(argv[i - 1])));
    } catch (e) {
      console.error(e instanceof Error ? e.message : e);
      failed.push('side-by-side');
    }
  }
  for (const name of OTHERS) {
    if (!want(name)) continue;
    const file = path.join(HERE, `${name}.js`);
    if (!existsSync(file)) continue;
    console.log(`\n=== bench/${name} ===`);
    const r = spawnSync(process.execPath, [file], { stdio: 'inherit' });
    if (r.status !== 0) failed.push(name);
  }
  if (failed.length) {
    console.error(`\nbench scripts that failed: ${failed.join(', ')}`);
    process.exitCode = 1;
  }
}

run().catch((e) => {
  console.error(e);
  process.exit(1);
});
