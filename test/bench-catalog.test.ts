// The bench runner's catalog names every bench script on disk, each once and in its purpose's
// folder, and the runner lists them all and refuses an unknown name with exit 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { BENCHES, FOLDER, scriptOf } from '../bench/catalog.js';
import { arg, argAt, argList, flag, withoutArgs } from '../bench/lib/args.js';
import { REPO } from './helpers.js';

const RUNNER = path.join(REPO, 'dist', 'bench', 'run.js');

test('the catalog and the bench folders hold the same scripts', () => {
  const onDisk = Object.values(FOLDER)
    .flatMap((dir) =>
      readdirSync(path.join(REPO, 'bench', dir))
        .filter((f) => f.endsWith('.ts'))
        .map((f) => `${dir}/${f.replace(/\.ts$/, '.js')}`),
    )
    .sort();
  assert.deepEqual(BENCHES.map(scriptOf).sort(), onDisk);
  assert.equal(new Set(BENCHES.map((b) => b.name)).size, BENCHES.length, 'bench names are unique');
});

test('`bench --list` prints every entry; an unknown name exits 2 with one line', () => {
  const list = spawnSync(process.execPath, [RUNNER, '--list'], { encoding: 'utf8' });
  assert.equal(list.status, 0, list.stderr);
  const names = list.stdout
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[1]);
  assert.deepEqual(
    names,
    BENCHES.map((b) => b.name),
  );
  const bad = spawnSync(process.execPath, [RUNNER, 'no-such-bench'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr.trim(), /^Expected a bench name .* but received no-such-bench$/);
});

test('the shared argument parser reads values, lists and flags, and strips pairs', () => {
  const argv = ['--only', 'a,b', '--rounds', '1', '--store', '--skip'];
  assert.equal(arg('rounds', '3', argv), '1');
  assert.equal(arg('ratios', '0.1', argv), '0.1');
  assert.equal(arg('skip', 'x', argv), 'x', 'a trailing --name without a value gives the default');
  assert.deepEqual(argList('only', argv), ['a', 'b']);
  assert.equal(argList('ratios', argv), null);
  assert.equal(flag('store', argv), true);
  assert.equal(flag('list', argv), false);
  assert.deepEqual(withoutArgs(['only'], argv), ['--rounds', '1', '--store', '--skip']);
  // by name, else by position among the bare arguments (recorded commands pass values by position)
  const script = ['node', 'bench.js'];
  assert.equal(argAt('size', 1, '224', [...script, '112', '352']), '352');
  assert.equal(argAt('size', 1, '224', [...script, '--count', '9', '--size', '64']), '64');
  assert.equal(argAt('size', 1, '224', [...script, '--count', '9', '112']), '224', 'a named value is not a bare argument');
  assert.equal(argAt('count', 0, '160', [...script, '--count', '9', '112']), '9');
});
