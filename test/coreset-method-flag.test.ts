import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coresetMethodFlag } from '../src/cli/args.js';
import { parseCommand } from '../src/cli/options.js';
import { FIT } from '../src/cli/commands/fit.js';
import { UserError } from '../src/util/errors.js';

const method = (...flags: string[]) => coresetMethodFlag(parseCommand(FIT, ['--data', 'd', '--out', 'o', ...flags]).values);

test('--coreset-method and --coreset-exact', () => {
  assert.equal(method(), 'auto');
  assert.equal(method('--coreset-exact'), 'exact');
  assert.equal(method('--coreset-method', 'composable'), 'composable');
  assert.throws(
    () => method('--coreset-method', 'fast'),
    (e: unknown) => e instanceof UserError && /^Expected .*auto.*exact.*composable.* for --coreset-method but received "fast"$/.test(e.message),
  );
  assert.throws(() => method('--coreset-method', 'composable', '--coreset-exact'), UserError);
});
