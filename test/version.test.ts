import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO } from './helpers.js';
import { TOOL } from '../src/util/version.js';

test('TOOL is package.json name and version', () => {
  const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { name: string; version: string };
  assert.deepEqual({ ...TOOL }, { name: pkg.name, version: pkg.version });
});
