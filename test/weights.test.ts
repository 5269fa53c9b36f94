// Checkpoint readers: conversions, offsets, and a clear UserError for each kind of broken file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readSafetensors, writeSafetensors } from '../src/backbone/weights/safetensors.js';
import { readTorchPth } from '../src/backbone/weights/pth.js';
import { buildResNetOnnx } from '../src/backbone/resnet/build.js';
import { randomResNetWeights } from '../src/backbone/resnet/random.js';
import { RESNET_CONFIGS } from '../src/backbone/resnet/config.js';
import { UserError } from '../src/util/errors.js';
import { writeTorchZip, concat } from './weights-fixtures.js';

process.env.PATCHCORE_CACHE = mkdtempSync(path.join(os.tmpdir(), 'pc-weights-'));

/** A safetensors file with hand-written header entries and data. */
function rawSafetensors(header: object, data: Uint8Array): Uint8Array {
  const head = new TextEncoder().encode(JSON.stringify(header));
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(head.length), true);
  return concat([len, head, data]);
}

const userError = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message);

test('safetensors round trip keeps names, shapes and values; F16 and BF16 become float32', () => {
  const t = new Map([['a.weight', { shape: [2, 3], data: Float32Array.of(1, -2, 3.5, 0, 1e-3, -7) }]]);
  const back = readSafetensors(writeSafetensors(t));
  assert.deepEqual(back.get('a.weight')!.shape, [2, 3]);
  assert.deepEqual([...back.get('a.weight')!.data], [...t.get('a.weight')!.data]);

  // 1.0, -2.0, 0.5 in binary16 (0x3c00, 0xc000, 0x3800) and in bfloat16 (0x3f80, 0xc000, 0x3f00)
  const f16 = new Uint8Array(Uint16Array.of(0x3c00, 0xc000, 0x3800).buffer);
  const bf16 = new Uint8Array(Uint16Array.of(0x3f80, 0xc000, 0x3f00).buffer);
  const file = rawSafetensors(
    { h: { dtype: 'F16', shape: [3], data_offsets: [0, 6] }, b: { dtype: 'BF16', shape: [3], data_offsets: [6, 12] }, __metadata__: { format: 'pt' } },
    concat([f16, bf16]),
  );
  const m = readSafetensors(file);
  assert.deepEqual([...m.get('h')!.data], [1, -2, 0.5]);
  assert.deepEqual([...m.get('b')!.data], [1, -2, 0.5]);
  assert.equal(m.get('h')!.dtype, 'F16');
});

test('broken safetensors files give one-line UserErrors', () => {
  const ok = writeSafetensors(new Map([['x', { shape: [4], data: new Float32Array(4) }]]));
  assert.throws(() => readSafetensors(ok.subarray(0, 5)), userError(/truncated safetensors header/));
  assert.throws(() => readSafetensors(ok.subarray(0, 20)), userError(/truncated or invalid safetensors header/));
  assert.throws(
    () => readSafetensors(rawSafetensors({ x: { dtype: 'I32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4))),
    userError(/unsupported dtype I32 for tensor x/),
  );
  assert.throws(
    () => readSafetensors(rawSafetensors({ x: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(8))),
    userError(/outside the file/),
  );
  assert.throws(() => readSafetensors(rawSafetensors({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }, new Uint8Array(16))), userError(/needs 12/));
  const badJson = concat([new Uint8Array([3, 0, 0, 0, 0, 0, 0, 0]), new TextEncoder().encode('{x}')]);
  assert.throws(() => readSafetensors(badJson), userError(/not valid JSON/));
  // num_batches_tracked counters (I64) are skipped, not refused
  const withCounter = rawSafetensors({ 'bn1.num_batches_tracked': { dtype: 'I64', shape: [], data_offsets: [0, 8] } }, new Uint8Array(8));
  assert.equal(readSafetensors(withCounter).size, 0);
});

test('.pth: half storages are converted, storage offsets honoured, non-contiguous views refused', () => {
  const t = new Map([
    ['a', { shape: [2, 2], data: Float32Array.of(1, 2, 3, 4), storageOffset: 3 }],
    ['h', { shape: [3], data: Float32Array.of(0.5, -2, 1.25) }],
  ]);
  const m = readTorchPth(writeTorchZip(t, { half: new Set(['h']) }));
  assert.deepEqual([...m.get('a')!.data], [1, 2, 3, 4]);
  assert.deepEqual(m.get('a')!.shape, [2, 2]);
  assert.deepEqual([...m.get('h')!.data], [0.5, -2, 1.25]);
  assert.equal(m.get('h')!.dtype, 'F16');
  const transposed = new Map([['t', { shape: [2, 2], data: Float32Array.of(1, 2, 3, 4), stride: [1, 2] }]]);
  assert.throws(() => readTorchPth(writeTorchZip(transposed)), userError(/tensor t is not contiguous/));
});

test('broken .pth files give UserErrors', () => {
  const good = writeTorchZip(new Map([['a', { shape: [2], data: Float32Array.of(1, 2) }]]));
  assert.throws(() => readTorchPth(new Uint8Array([1, 2, 3])), userError(/not a PyTorch checkpoint/));
  assert.throws(() => readTorchPth(good.subarray(0, good.length - 30)), userError(/zip|central directory/));
  assert.throws(() => readTorchPth(Uint8Array.of(0x80, 0x02, 0x4b)), userError(/truncated pickle/));
});

test('missing or misshapen tensors name the architecture and the tensors', () => {
  const w = randomResNetWeights(RESNET_CONFIGS.resnet18, 2);
  const missing = new Map(w);
  missing.delete('layer3.1.bn2.running_var');
  missing.delete('layer1.0.conv1.weight');
  assert.throws(
    () => buildResNetOnnx('resnet18', missing),
    userError(/lack 2 tensor\(s\) that resnet18 needs \(layer1\.0\.conv1\.weight, layer3\.1\.bn2\.running_var\)/),
  );
  const misshapen = new Map(w);
  misshapen.set('conv1.weight', { dtype: 'F32', shape: [64, 3, 3, 3], data: new Float32Array(64 * 27) });
  assert.throws(() => buildResNetOnnx('resnet18', misshapen), userError(/conv1\.weight has shape \[64,3,3,3\] but resnet18 needs \[64,3,7,7\]/));
});
