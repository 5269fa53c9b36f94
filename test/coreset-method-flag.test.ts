import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coresetMethodFlag } from '../src/cli/args.js';
import { UserError } from '../src/util/errors.js';

test('--coreset-method and --coreset-exact', () => {
  assert.equal(coresetMethodFlag({}), 'auto');
  assert.equal(coresetMethodFlag({ 'coreset-exact': true }), 'exact');
  assert.equal(coresetMethodFlag({ 'coreset-method': 'composable' }), 'composable');
  assert.throws(() => coresetMethodFlag({ 'coreset-method': 'fast' }), (e: unknown) =>
    e instanceof UserError && e.message === 'Expected auto, exact or composable for --coreset-method but received "fast"');
  assert.throws(() => coresetMethodFlag({ 'coreset-method': 'composable', 'coreset-exact': true }), UserError);
});
