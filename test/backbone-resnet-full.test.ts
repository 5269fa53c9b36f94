// The real WRN50-2 / ResNet-18 architectures (random weights): output shapes at 224 and parameter counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildResNetOnnx } from '../src/backbone/resnet/build.js';
import { randomResNetWeights } from '../src/backbone/resnet/random.js';
import { RESNET_CONFIGS } from '../src/backbone/resnet/config.js';

process.env.PATCHCORE_CACHE = mkdtempSync(path.join(os.tmpdir(), 'pc-full-'));

// torchvision counts (conv weights + BN weight/bias, i.e. before folding), summed over conv1..layer3:
// wide_resnet50_2 68,883,240 in all minus layer4 41,971,712 and fc 2,049,000; resnet18 11,689,512 minus 8,393,728 and 513,000.
const CASES = [
  { arch: 'wide_resnet50_2', params: 24_862_528, l2: [1, 512, 28, 28], l3: [1, 1024, 14, 14] },
  { arch: 'resnet18', params: 2_782_784, l2: [1, 128, 28, 28], l3: [1, 256, 14, 14] },
] as const;

for (const c of CASES) {
  test(`${c.arch}: ${c.params} parameters to layer3, layer2 ${c.l2} / layer3 ${c.l3} at 224`, async () => {
    const built = buildResNetOnnx(c.arch, randomResNetWeights(RESNET_CONFIGS[c.arch], 5));
    assert.equal(built.params, c.params);
    assert.ok(built.onnxParams < built.params, 'folding replaces BN weight+bias with one conv bias per channel');
    const session = await ort.InferenceSession.create(built.bytes);
    const out = await session.run({ image: new ort.Tensor('float32', new Float32Array(3 * 224 * 224).fill(0.3), [1, 3, 224, 224]) });
    assert.deepEqual(out.layer2.dims, c.l2);
    assert.deepEqual(out.layer3.dims, c.l3);
    const l3 = out.layer3.data as Float32Array;
    assert.ok(l3.every(Number.isFinite));
    assert.ok(
      l3.some((v) => v > 0),
      'post-ReLU features are not all zero',
    );
  });
}
