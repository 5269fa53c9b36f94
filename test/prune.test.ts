// `patchcore prune`: old versions kept by update go, the nearest ancestors stay with --keep, and
// the version in use (model.json and its bank, even when an old version shares that bank) is never
// removed: the model loads and scores the same afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { runCli, tempDir } from './helpers.js';
import { tinyModel, tinyPng } from './station-fixture.js';
import { PatchCore } from '../src/model/patchcore.js';
import { versionFile } from '../src/model/store.js';
import { writeFileAtomic } from '../src/util/atomic.js';
import { decodeImage } from '../src/image/load.js';

const banks = (dir: string) =>
  readdirSync(dir)
    .filter((n) => /^bank-.*\.bin$/.test(n))
    .sort();

test('prune keeps the current version and the --keep nearest ancestors, removing the others and their banks', async () => {
  const { dir } = await tinyModel();
  const ids: string[] = [];
  for (const seed of [80, 81]) {
    const m = await PatchCore.open(dir);
    ids.push(m.modelId);
    const f = path.join(tempDir('pc-prune-add-'), 'part.png');
    await writeFileAtomic(f, await tinyPng('scratch', seed));
    const r = await m.update([f]);
    await r.model!.saveOverParent(dir);
  }
  const current = await PatchCore.open(dir);
  const [v1, v2] = ids; // v1 <- v2 <- current
  assert.equal(current.config.parent, v2);
  // an old version sharing the current bank (a copy of model.json under another id): its bank stays
  const shared = versionFile(dir, 'abcdefabcdef');
  copyFileSync(path.join(dir, 'model.json'), shared);
  assert.equal(banks(dir).length, 3);
  const img = await decodeImage(await tinyPng('crack', 82), 'x');
  const score = (await current.predict(img)).score;

  const dry = runCli('prune', '--model', dir, '--keep', '1', '--dry-run');
  assert.equal(dry.code, 0, dry.err);
  assert.equal(banks(dir).length, 3, 'a dry run removes nothing');

  const one = runCli('prune', '--model', dir, '--keep', '1');
  assert.equal(one.code, 0, one.err);
  assert.ok(existsSync(versionFile(dir, v2)), 'the parent is the nearest ancestor: kept');
  assert.ok(!existsSync(versionFile(dir, v1)) && !existsSync(shared));
  assert.match(one.out, /abcdefabcdef \(its bank is still used\)/);
  assert.equal(banks(dir).length, 2, "v1's bank went; the current one and v2's stay");

  const all = runCli('prune', '--model', dir);
  assert.equal(all.code, 0, all.err);
  assert.deepEqual(readdirSync(path.join(dir, 'versions')), []);
  const cfg = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as { bank: { file: string } };
  assert.deepEqual(banks(dir), [cfg.bank.file]);
  const after = await PatchCore.open(dir);
  assert.equal(after.modelId, current.modelId);
  assert.equal((await after.predict(img)).score, score, 'the model in use is whole');

  const bad = runCli('prune', '--model', dir, '--keep', '-1');
  assert.equal(bad.code, 2);
  assert.equal(bad.err.trim().split('\n').length, 1);
});
