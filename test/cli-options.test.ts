// One option table per command drives parsing, --help and README.md: they cannot drift apart.
import { test } from 'node:test';
import { DEFAULT_PRESET, PRESETS } from '../src/model/config.js';
import { coresetRatio, preprocessFlags, presetOf } from '../src/cli/args.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { COMMANDS, SPECS } from '../src/cli/commands/index.js';
import { inFlags, nearest, parseCommand, updateReadme } from '../src/cli/options.js';
import { invalid, UserError } from '../src/util/errors.js';
import { FIT } from '../src/cli/commands/fit.js';
import { CLI } from './helpers.js';

test("README.md's options tables are the commands' tables (npm run docs:options rewrites them)", () => {
  const readme = readFileSync('README.md', 'utf8');
  assert.equal(updateReadme(readme, SPECS), readme, "README.md differs from the option tables: run 'npm run docs:options'");
});

test('every command has a table, and its --help lists every option', () => {
  assert.deepEqual(SPECS.map((s) => s.name).sort(), Object.keys(COMMANDS).sort());
  for (const spec of SPECS) {
    const r = spawnSync(process.execPath, [CLI, spec.name, '--help'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    for (const k of Object.keys(spec.options)) assert.ok(r.stdout.includes(`--${k}`), `${spec.name} --help lacks --${k}`);
  }
});

test('flags are parsed and checked from the table', () => {
  const v = parseCommand(FIT, ['--data', 'd', '--out', 'o', '--coreset', '0.25', '--seed=7', '--bg-range', 'auto', '--crop', 'none']).values;
  assert.equal(v.coreset, 0.25);
  assert.equal(v.seed, 7);
  assert.equal(v['bg-range'], 'auto');
  assert.equal(v.crop, 'none');
  assert.equal(v.resize, undefined, 'no flag: the preset decides');
  assert.deepEqual(
    preprocessFlags(v, presetOf(v)),
    { resize: PRESETS[DEFAULT_PRESET].preprocess.resize, crop: 'none' },
    "the default preset's resize, the explicit crop",
  );
  const v2 = parseCommand(FIT, ['--data', 'd', '--out', 'o', '--preset', 'v2']).values;
  assert.deepEqual(preprocessFlags(v2, presetOf(v2)), { resize: 320, crop: 'none' });
  const v1 = parseCommand(FIT, ['--data', 'd', '--out', 'o', '--preset', 'v1']).values;
  assert.deepEqual(preprocessFlags(v1, presetOf(v1)), { resize: 256, crop: 224 });
  // the coreset ratio: the flag, else the preset's (another --backbone without --preset means v1)
  assert.equal(coresetRatio(v), 0.25);
  assert.equal(coresetRatio(parseCommand(FIT, ['--data', 'd', '--out', 'o']).values), PRESETS[DEFAULT_PRESET].ratio);
  assert.equal(coresetRatio(v1), 0.1);
  assert.equal(coresetRatio(parseCommand(FIT, ['--data', 'd', '--out', 'o', '--backbone', 'mobilenet_v2']).values), 0.1);
  assert.throws(() => parseCommand(FIT, ['--data', 'd', '--out', 'o', '--preset', 'v9']), /for --preset but received "v9"/);
  assert.equal(v.background, false);
  // a negative number after a flag is its value, and gets the flag's own explanation
  assert.throws(() => parseCommand(FIT, ['--data', 'd', '--out', 'o', '--seed', '-1']), {
    message: 'Expected a non-negative integer for --seed but received -1',
  });
  assert.throws(() => parseCommand(FIT, ['--data', 'd', '--out', 'o', '--coreset', 'abc']), {
    message: 'Expected a ratio in (0, 1] for --coreset but received "abc"',
  });
  assert.throws(() => parseCommand(FIT, ['--out', 'o']), /for --data but received undefined/);
  assert.throws(() => parseCommand(FIT, ['--data', 'd', '--out', 'o', '--corset', '0.1']), /unknown option --corset .*did you mean --coreset\?/);
});

test('did you mean: nearest flag by edit distance or unique prefix, none when far', () => {
  const flags = ['coreset', 'seed', 'score', 'bg-size', 'bg-filter'];
  assert.equal(nearest('coresett', flags), 'coreset');
  assert.equal(nearest('sed', flags), 'seed');
  assert.equal(nearest('bg-f', flags), 'bg-filter');
  assert.equal(nearest('frobnicate', flags), null);
});

test("a library message about an option is told with the option's flag", () => {
  const told = inFlags(invalid('ratio', 'a number in (0, 1]', 2), FIT.options) as Error;
  assert.equal(told.message, 'Expected a number in (0, 1] for --coreset but received 2');
  assert.ok(told instanceof UserError);
  assert.equal((inFlags(invalid('background.size', 'an odd size', 4), FIT.options) as Error).message, 'Expected an odd size for --bg-size but received 4');
  // names the table does not know, and other errors, pass unchanged
  const other = invalid('model.json bank.file', 'a plain file name', '../x');
  assert.equal(inFlags(other, FIT.options), other);
  const internal = new Error('Expected x for ratio but received y');
  assert.equal(inFlags(internal, FIT.options), internal);
});
