// `npm run bench`: one runner for every bench script (bench/catalog.ts), each in its own process so
// one's memory does not count in another's RSS.
//   npm run bench -- --list                     every script, by purpose
//   npm run bench -- NAME [args…]               one script; the args go to it
//   npm run bench [-- --only a,b | --skip a,b] [args…]   the suite (the catalog's `suite` entries);
//                                               the remaining args go to side-by-side
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { argList, flag, withoutArgs } from './lib/args.js';
import { BENCHES, type BenchEntry, scriptOf } from './catalog.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

function listing(): string {
  const width = Math.max(...BENCHES.map((b) => b.name.length));
  return BENCHES.map((b) => `${b.kind.padEnd(5)}  ${b.name.padEnd(width)}  ${b.summary}${b.suite ? '  [suite]' : ''}`).join('\n');
}

function runOne(entry: BenchEntry, args: string[]): boolean {
  const r = spawnSync(process.execPath, [path.join(HERE, scriptOf(entry)), ...args], { stdio: 'inherit' });
  return r.status === 0;
}

function main(argv: string[]): number {
  if (flag('list', argv)) return (void console.log(listing()), 0);
  const named = argv[0] && !argv[0].startsWith('--') ? BENCHES.find((b) => b.name === argv[0]) : undefined;
  if (argv[0] && !argv[0].startsWith('--') && !named) {
    console.error(`Expected a bench name (npm run bench -- --list) for bench but received ${argv[0]}`);
    return 2;
  }
  if (named) return runOne(named, argv.slice(1)) ? 0 : 1;

  const only = argList('only', argv);
  const skip = argList('skip', argv) ?? [];
  const rest = withoutArgs(['only', 'skip'], argv);
  const failed: string[] = [];
  for (const entry of BENCHES.filter((b) => b.suite)) {
    if (only ? !only.includes(entry.name) : skip.includes(entry.name)) continue;
    console.log(`\n=== bench/${scriptOf(entry).replace(/\.js$/, '')} ===`);
    if (!runOne(entry, entry.name === 'side-by-side' ? rest : [])) failed.push(entry.name);
  }
  if (failed.length) console.error(`\nbench scripts that failed: ${failed.join(', ')}`);
  return failed.length ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
