// The library's fit takes a preset: `{ preset, ...settings }` fits exactly as the same settings
// written out, and without a preset another backbone than the presets' own gets v1 (as the CLI).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { tempDir } from './helpers.js';
import { syntheticSample } from '../src/data/synthetic.js';
import { loadBackbone } from '../src/backbone/index.js';
import { PatchCore } from '../src/model/patchcore.js';
import { DEFAULT_SCORING } from '../src/model/config.js';
import { encodePng } from '../src/image/load.js';
import { writeFileAtomic } from '../src/util/atomic.js';
import { UserError } from '../src/util/errors.js';

test('fit with a preset equals fit with its settings written out; no preset and another backbone is v1', { timeout: 180_000 }, async () => {
  const root = tempDir('pc-fit-preset-');
  const files: string[] = [];
  for (let i = 0; i < 3; i++) {
    const f = path.join(root, `good_${i}.png`);
    await writeFileAtomic(f, await encodePng(syntheticSample(700 + i, 'good', 96).image));
    files.push(f);
  }
  const backbone = await loadBackbone('mobilenet_v2');
  await assert.rejects(PatchCore.fit(files, backbone, { preset: 'v9' }), (e) => e instanceof UserError && e.option?.key === 'preset');
  const written = await PatchCore.fit(files, backbone, {
    preprocess: { resize: 256, crop: 224 },
    background: null,
    featureDim: 0,
    precision: 'fp32',
    ratio: 0.3,
    seed: 1,
    scoring: DEFAULT_SCORING,
  });
  const named = await PatchCore.fit(files, backbone, { preset: 'v1', ratio: 0.3, seed: 1 });
  const implied = await PatchCore.fit(files, backbone, { ratio: 0.3, seed: 1 });
  for (const m of [named, implied]) {
    assert.deepEqual(m.config.preprocess, written.config.preprocess);
    assert.deepEqual(m.config.coreset, written.config.coreset);
    assert.deepEqual(m.config.scoring, written.config.scoring);
    assert.equal(m.config.backbone.int8, undefined, 'v1 is fp32');
    assert.deepEqual(Array.from(m.fitted.bank.data), Array.from(written.fitted.bank.data));
    assert.equal(m.config.threshold, written.config.threshold);
  }
  for (const m of [written, named, implied]) await m.fitted.nn.release();
});
