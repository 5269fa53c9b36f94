// User-supplied ONNX backbones: tapping intermediate tensors (float and int8), stride inference, bad names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { userOnnxBackbone, loadUserOnnxBackbone } from '../src/backbone/user-onnx.js';
import { GraphBuilder } from '../src/onnx/builder.js';
import { UserError } from '../src/util/errors.js';
import { SHARED } from './helpers.js';

// A missing prerequisite skips locally; under CI=true the test runs and fails on it with the reason.
const CI = process.env.CI === 'true';
const dir = mkdtempSync(path.join(os.tmpdir(), 'pc-useronnx-'));
process.env.PATCHCORE_CACHE = dir;
const MEAN: [number, number, number] = [0.485, 0.456, 0.406];
const STD: [number, number, number] = [0.229, 0.224, 0.225];
// shared/ lies beside the repository; tests run from the repository root
const mobilenet = path.join(SHARED, 'models', 'mobilenetv2-12-int8.onnx');

/** A float model: four stride-2 convs (s2..s16) then a classifier-like head that must be pruned. */
function tinyFloatModel(): string {
  const g = new GraphBuilder('tiny');
  let x = g.input('data', ['N', 3, 'H', 'W']);
  for (let i = 1; i <= 4; i++) {
    const cin = i === 1 ? 3 : 4;
    x = g.op('Conv', [x, g.init(`w${i}`, [4, cin, 3, 3], new Float32Array(4 * cin * 9).fill(0.1))], { strides: [2, 2], pads: [1, 1, 1, 1] }, `s${2 ** i}`);
  }
  g.output(g.op('GlobalAveragePool', [x], {}, 'logits'), ['N', 4, 1, 1]);
  const file = path.join(dir, 'tiny.onnx');
  writeFileSync(file, g.toBytes());
  return file;
}

test('float model: named tensors become the only outputs and strides come from a probe run', async () => {
  const u = await userOnnxBackbone(tinyFloatModel(), ['s8', 's16'], MEAN, STD, 96);
  assert.deepEqual(u.spec.layers, ['s8', 's16']);
  assert.deepEqual(u.spec.strides, [8, 16]);
  assert.deepEqual(u.dims, [
    [1, 4, 12, 12],
    [1, 4, 6, 6],
  ]);
  const m = onnxProto.onnx.ModelProto.decode(u.bytes);
  assert.deepEqual(
    m.graph!.output!.map((o) => o.name),
    ['s8', 's16'],
  );
  assert.ok(!m.graph!.node!.some((n) => n.opType === 'GlobalAveragePool'), 'the unused head is pruned');
});

test('unknown or repeated layer names are UserErrors that list valid names', async () => {
  const file = tinyFloatModel();
  await assert.rejects(
    userOnnxBackbone(file, ['s8', 'nope'], MEAN, STD),
    (e: unknown) => e instanceof UserError && /Expected tensors of .*, e\.g\. s2, s4, s8, s16.* for layers but received "nope"/.test(e.message),
  );
  await assert.rejects(userOnnxBackbone(file, ['s8', 's8'], MEAN, STD), UserError);
  await assert.rejects(loadUserOnnxBackbone({ id: file, layers: 's8' }), /two tensor names/);
});

test('int8 MobileNetV2: block outputs 365_quantized (stride 8) and 426_quantized (stride 16), dequantized', {
  skip: !existsSync(mobilenet) && !CI && `${mobilenet} not found (../shared)`,
}, async () => {
  assert.ok(existsSync(mobilenet), `${mobilenet} not found (../shared)`);
  const u = await userOnnxBackbone(mobilenet, ['365_quantized', '426_quantized'], MEAN, STD, 224);
  assert.deepEqual(u.spec.strides, [8, 16]);
  assert.deepEqual(u.dims, [
    [1, 32, 28, 28],
    [1, 96, 14, 14],
  ]);
  // outputs are float and lie on the quantization grid: (v - 0)/scale + zero_point is an integer
  const model = onnxProto.onnx.ModelProto.decode(u.bytes);
  const deq = model.graph!.node!.find((n) => n.output![0] === u.spec.layers[0])!;
  const scaleT = model.graph!.initializer!.find((t) => t.name === deq.input![1])!;
  const scale = scaleT.floatData?.length ? scaleT.floatData[0] : new DataView(scaleT.rawData!.buffer, scaleT.rawData!.byteOffset).getFloat32(0, true);
  const session = await ort.InferenceSession.create(u.bytes);
  const img = Float32Array.from({ length: 3 * 224 * 224 }, (_, i) => Math.sin(i / 50));
  const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', img, [1, 3, 224, 224]) });
  const v = out[u.spec.layers[0]].data as Float32Array;
  assert.ok(new Set(v).size > 10, 'features vary');
  assert.ok(v.every((x) => Math.abs(x / scale - Math.round(x / scale)) < 1e-3));

  const bb = await loadUserOnnxBackbone({ id: mobilenet, layers: '365_quantized,426_quantized', inputSize: '224' });
  const [maps] = await bb.run({ dims: [1, 3, 224, 224], data: img });
  assert.deepEqual(maps.shallow.dims, [1, 32, 28, 28]);
  assert.deepEqual(maps.deep.dims, [1, 96, 14, 14]);
});
