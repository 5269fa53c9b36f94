// normalise (a table per channel) against its plain loop, bit for bit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalise, normalisePlain } from '../src/image/preprocess.js';
import type { PreprocessConfig } from '../src/types.js';
import { Rng } from '../src/util/rng.js';

test('normalise equals the plain loop for every byte value, on ImageNet and identity statistics', () => {
  const rng = new Rng(2);
  const img = { width: 37, height: 29, data: Uint8Array.from({ length: 37 * 29 * 3 }, (_, i) => (i < 768 ? i % 256 : rng.int(256))) };
  const stats: Pick<PreprocessConfig, 'mean' | 'std'>[] = [
    { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    { mean: [0, 0, 0], std: [1, 1, 1] },
    { mean: [0.5, 0.25, 0.75], std: [0.5, 2, 0.1] },
  ];
  for (const cfg of stats) {
    const fast = normalise(img, cfg),
      plain = normalisePlain(img, cfg);
    assert.deepEqual(fast.dims, [1, 3, 29, 37]);
    assert.deepEqual(fast.data, plain.data);
  }
});
