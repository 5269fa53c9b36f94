// `--bg-range auto` is resolved once from the training images and stored as a fixed range.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tempDir } from './helpers.js';
import { resolveAutoRange } from '../src/image/background.js';
import { DEFAULT_BACKGROUND } from '../src/image/background.js';
import { writeSyntheticDataset } from '../src/data/synthetic.js';
import { trainImages } from '../src/data/dataset.js';

test('auto background range is resolved from training images; fixed ranges pass through', async () => {
  const dir = await writeSyntheticDataset(tempDir(), { size: 128, train: 6, testGood: 0, testPerDefect: 0 });
  const files = await trainImages(dir);
  const r = await resolveAutoRange(files, { ...DEFAULT_BACKGROUND, range: 'auto' });
  assert.ok(r && r.range !== 'auto');
  // the synthetic background is ~205-215 gray (light: one-sided up to 255); the washer (~105) is outside
  for (let c = 0; c < 2; c++) {
    assert.ok(r.range.lo[c] > 150 && r.range.lo[c] <= 195, `lo[${c}] = ${r.range.lo[c]}`);
    assert.equal(r.range.hi[c], 255);
  }
  assert.match(r.estimated ?? '', /auto/);
  assert.equal(await resolveAutoRange(files, null), null);
  assert.deepEqual(await resolveAutoRange(files, DEFAULT_BACKGROUND), DEFAULT_BACKGROUND);
});
