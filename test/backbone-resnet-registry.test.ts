// The registered torchvision backbones: --weights files, the fetched-file location, and the offline advice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import '../src/backbone/torchvision.js';
import { listTorchvisionBackbones } from '../src/backbone/torchvision.js';
import { loadBackbone, backboneEntry } from '../src/backbone/registry.js';
import { randomResNetWeights } from '../src/backbone/resnet/random.js';
import { RESNET_CONFIGS } from '../src/backbone/resnet/config.js';
import { writeSafetensors } from '../src/backbone/weights/safetensors.js';
import { weightsPath } from '../src/backbone/weights/catalog.js';
import { UserError } from '../src/util/errors.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pc-reg-'));
process.env.PATCHCORE_CACHE = path.join(dir, 'cache');

test('without weights, building resnet18 fails with the URL, the destination and --weights', async () => {
  await assert.rejects(loadBackbone('resnet18'), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /huggingface\.co\/timm\/resnet18\.tv_in1k/);
    assert.ok(e.message.includes(weightsPath('resnet18')), e.message);
    assert.match(e.message, /--weights FILE/);
    return true;
  });
  assert.equal(listTorchvisionBackbones().find((b) => b.name === 'resnet18')?.cached, false);
});

test('resnet18 from --weights FILE, then from the fetched-file location', async () => {
  const file = path.join(dir, 'r18.safetensors');
  writeFileSync(file, writeSafetensors(randomResNetWeights(RESNET_CONFIGS.resnet18, 9)));
  const bb = await loadBackbone('resnet18', { weights: file });
  assert.deepEqual(bb.spec.layers, ['layer2', 'layer3']);
  const [maps] = await bb.run({ dims: [1, 3, 64, 96], data: new Float32Array(3 * 64 * 96).fill(0.5) });
  assert.deepEqual(maps.shallow.dims, [1, 128, 8, 12]);
  assert.deepEqual(maps.deep.dims, [1, 256, 4, 6]);

  mkdirSync(path.dirname(weightsPath('resnet18')), { recursive: true });
  writeFileSync(weightsPath('resnet18'), writeSafetensors(randomResNetWeights(RESNET_CONFIGS.resnet18, 9)));
  const again = await loadBackbone('resnet18');
  assert.equal(again.hash, bb.hash, 'same weights give the same graph');
  assert.notEqual(backboneEntry('resnet18').cacheName({}), backboneEntry('resnet18').cacheName({ weights: file }));
  const info = listTorchvisionBackbones();
  assert.deepEqual(
    info.map((b) => [b.name, b.cached]),
    [
      ['wide_resnet50_2', false],
      ['resnet18', true],
    ],
  );
  assert.ok(info[0].downloadBytes > 270e6 && info[1].downloadBytes < 50e6);
});

test('a wrong-architecture checkpoint is refused with the missing tensor names', async () => {
  const file = path.join(dir, 'not-wrn.safetensors');
  writeFileSync(file, writeSafetensors(randomResNetWeights(RESNET_CONFIGS.resnet18, 1)));
  await assert.rejects(loadBackbone('wide_resnet50_2', { weights: file }), /shape .* wide_resnet50_2 needs|lack .*wide_resnet50_2/);
});
