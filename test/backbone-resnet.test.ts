// The built ONNX graph must match an independent TypeScript forward pass, for both block types and all
// checkpoint formats (safetensors, torch zip, legacy torch, `module.`-prefixed names).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildResNetOnnx } from '../src/backbone/resnet/build.js';
import { randomResNetWeights } from '../src/backbone/resnet/random.js';
import type { ResNetConfig } from '../src/backbone/resnet/config.js';
import { writeSafetensors } from '../src/backbone/weights/safetensors.js';
import { loadWeightsFile } from '../src/backbone/weights/load.js';
import type { WeightMap } from '../src/backbone/weights/tensors.js';
import { Rng } from '../src/util/rng.js';
import { referenceForward, type Fmap } from './backbone-resnet-reference.js';
import { writeTorchZip, writeTorchLegacy } from './weights-fixtures.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pc-resnet-'));
process.env.PATCHCORE_CACHE = dir;

const BOTTLENECK: ResNetConfig = {
  block: 'bottleneck',
  stem: 4,
  stages: [
    { blocks: 2, width: 4, out: 8, stride: 1 },
    { blocks: 2, width: 8, out: 16, stride: 2 },
    { blocks: 2, width: 8, out: 16, stride: 2 },
  ],
};
const BASIC: ResNetConfig = {
  block: 'basic',
  stem: 4,
  stages: [
    { blocks: 2, width: 4, out: 4, stride: 1 }, // no downsample: identity shortcut
    { blocks: 2, width: 8, out: 8, stride: 2 },
    { blocks: 2, width: 16, out: 16, stride: 2 },
  ],
};

const H = 37,
  W = 45; // odd sizes exercise the padding arithmetic
const N = 2;

function randomImages(seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: N * 3 * H * W }, () => rng.normal());
}

/** Run the graph on N images and compare each with the reference; returns the max abs difference. */
async function maxDiff(onnx: Uint8Array, weights: WeightMap, images: Float32Array): Promise<number> {
  const session = await ort.InferenceSession.create(onnx);
  const out = await session.run({ image: new ort.Tensor('float32', images, [N, 3, H, W]) });
  let worst = 0;
  for (let n = 0; n < N; n++) {
    const ref = referenceForward(weights, images.subarray(n * 3 * H * W, (n + 1) * 3 * H * W), H, W);
    for (const name of ['layer2', 'layer3'] as const) {
      const r: Fmap = ref[name];
      const got = out[name];
      assert.deepEqual(got.dims.map(Number), [N, r.c, r.h, r.w], `${name} shape`);
      const data = got.data as Float32Array;
      const per = r.data.length;
      for (let i = 0; i < per; i++) worst = Math.max(worst, Math.abs(data[n * per + i] - r.data[i]));
    }
  }
  return worst;
}

function save(name: string, bytes: Uint8Array): string {
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

for (const [label, cfg] of [
  ['bottleneck', BOTTLENECK],
  ['basic', BASIC],
] as const) {
  test(`${label} ResNet graph matches the reference forward pass (safetensors)`, async () => {
    const weights = randomResNetWeights(cfg, 7);
    assert.ok(weights.has('layer1.0.conv1.weight') && weights.has('layer2.0.downsample.1.running_var'));
    assert.equal(weights.has('layer3.0.conv3.weight'), label === 'bottleneck');
    const loaded = await loadWeightsFile(save(`${label}.safetensors`, writeSafetensors(weights)));
    const diff = await maxDiff(buildResNetOnnx(cfg, loaded).bytes, weights, randomImages(1));
    assert.ok(diff < 1e-4, `max abs diff ${diff}`);
  });

  test(`${label} ResNet graph matches the reference (torch .pth zip, legacy .pth, module. prefix)`, async () => {
    const weights = randomResNetWeights(cfg, 11);
    const prefixed = new Map([...weights].map(([k, v]) => [`module.${k}`, v]));
    const files = [
      save(`${label}-zip.pth`, writeTorchZip(weights, { prefix: 'resnet18-f37072fd', deflate: true })),
      save(`${label}-legacy.pth`, writeTorchLegacy(weights)),
      save(`${label}-module.pth`, writeTorchZip(prefixed)),
    ];
    const images = randomImages(2);
    for (const file of files) {
      const diff = await maxDiff(buildResNetOnnx(cfg, await loadWeightsFile(file)).bytes, weights, images);
      assert.ok(diff < 1e-4, `${path.basename(file)}: max abs diff ${diff}`);
    }
  });
}

test('a BN-folded graph differs from the reference when a weight is perturbed (the comparison can fail)', async () => {
  const weights = randomResNetWeights(BASIC, 3);
  const broken = new Map(weights);
  const w = weights.get('layer2.1.bn2.running_mean')!;
  broken.set('layer2.1.bn2.running_mean', { ...w, data: w.data.map((v) => v + 0.5) });
  const diff = await maxDiff(buildResNetOnnx(BASIC, broken).bytes, weights, randomImages(4));
  assert.ok(diff > 1e-2, `diff ${diff}`);
});
