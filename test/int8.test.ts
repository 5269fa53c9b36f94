// --precision int8: the QDQ graph stays close to the float one, a fitted int8 model still finds
// planted defects, and a saved int8 model reloads to the same scores (the graph is rebuilt from ranges).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import onnxProto from 'onnx-proto';
import './helpers.js';
import { fitSynthetic, SIZE } from './fit-fixture.js';
import { GraphBuilder } from '../src/onnx/builder.js';
import { createSession, ort } from '../src/onnx/session.js';
import { calibrationModel, quantizeModel, uint8Params, updateRanges, type Ranges } from '../src/onnx/quantize.js';
import { Rng } from '../src/util/rng.js';
import { syntheticSample } from '../src/data/synthetic.js';
import { loadBackbone } from '../src/backbone/index.js';
import { PatchCore } from '../src/model/patchcore.js';
import { exportModel } from '../src/export/export.js';
import { OnnxPredictor } from '../src/export/onnx-predict.js';

/** A small net with every op the quantizer handles: Conv(+bias), Relu, Add, MaxPool, AveragePool, Concat. */
function tinyNet(): Uint8Array {
  const rng = new Rng(3);
  const rand = (n: number, s: number) => Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * s);
  const g = new GraphBuilder('tiny');
  const x = g.input('image', [1, 3, 32, 32]);
  const conv = (inp: string, cin: number, cout: number) =>
    g.op('Conv', [inp, g.init(g.fresh('w'), [cout, cin, 3, 3], rand(cout * cin * 9, 0.3)), g.init(g.fresh('b'), [cout], rand(cout, 0.1))], {
      pads: [1, 1, 1, 1],
    });
  const a = g.op('Relu', [conv(x, 3, 16)]);
  const b = g.op('Relu', [g.op('Add', [conv(a, 16, 16), a])]);
  const p = g.op('MaxPool', [b], { kernel_shape: [2, 2], strides: [2, 2] });
  const q = g.op('AveragePool', [b], { kernel_shape: [2, 2], strides: [2, 2] });
  g.op('Relu', [conv(g.op('Concat', [p, q], { axis: 1 }), 32, 8)], {}, 'out');
  g.output('out', [1, 8, 16, 16]);
  return g.toBytes();
}

function images(n: number, seed: number): Float32Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => Float32Array.from({ length: 3 * 32 * 32 }, () => rng.next() * 2 - 1));
}

test('uint8 parameters keep zero exact and use the whole range', () => {
  const r = uint8Params([0, 2.55]);
  assert.ok(Math.abs(r.scale - 0.01) < 1e-12);
  assert.equal(r.zero, 0);
  const p = uint8Params([-1, 3]);
  assert.equal(p.zero, Math.round(1 / p.scale));
  assert.ok(Math.abs(p.scale - 4 / 255) < 1e-12);
  assert.equal(uint8Params([1, 2]).zero, 0); // range widened to include 0
});

/** tinyNet calibrated on 6 random images, then quantized. */
async function quantizedTiny(): Promise<{ bytes: Uint8Array; qbytes: Uint8Array }> {
  const bytes = tinyNet();
  const { bytes: calibBytes, names } = calibrationModel(bytes);
  const calib = await createSession(calibBytes);
  const ranges: Ranges = {};
  for (const x of images(6, 1)) updateRanges(ranges, await calib.run({ image: new ort.Tensor('float32', x, [1, 3, 32, 32]) }), names);
  await calib.release();
  return { bytes, qbytes: quantizeModel(bytes, ranges) };
}

test('the int8 graph quantizes every conv and stays within 3% of the float graph', async () => {
  const { bytes, qbytes } = await quantizedTiny();
  const q = onnxProto.onnx.ModelProto.decode(qbytes).graph!;
  const INT8 = onnxProto.onnx.TensorProto.DataType.INT8;
  assert.equal(q.initializer!.filter((t) => t.dataType === INT8 && (t.dims ?? []).length === 4).length, 3, 'all three conv weights int8');
  assert.ok(q.node!.filter((n) => n.opType === 'QuantizeLinear').length >= 5);

  const fp = await createSession(bytes);
  const i8 = await createSession(qbytes);
  for (const x of images(3, 2)) {
    const feed = { image: new ort.Tensor('float32', x, [1, 3, 32, 32]) };
    const a = (await fp.run(feed)).out.data as Float32Array;
    const b = (await i8.run(feed)).out.data as Float32Array;
    let num = 0;
    let den = 0;
    for (let i = 0; i < a.length; i++) {
      num += (a[i] - b[i]) ** 2;
      den += a[i] ** 2;
    }
    const rel = Math.sqrt(num / den);
    assert.ok(rel < 0.03, `relative error ${rel}`);
    assert.ok(rel > 1e-5, 'outputs identical: nothing was quantized');
  }
});

test('a quantized AveragePool runs as a float pool between its DQ and Q: the same outputs as the fused QLinearAveragePool', async () => {
  const { qbytes } = await quantizedTiny();
  const m = onnxProto.onnx.ModelProto.decode(qbytes);
  assert.deepEqual(m.graph!.output!.map((o) => o.name).sort(), ['out', m.graph!.node!.find((n) => n.opType === 'AveragePool')!.output![0]].sort());
  m.graph!.output = m.graph!.output!.filter((o) => o.name === 'out');
  const fusedBytes = onnxProto.onnx.ModelProto.encode(m).finish();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pool-'));
  const open: ort.InferenceSession[] = [];
  const opType = async (graph: Uint8Array, file: string) => {
    const s = await ort.InferenceSession.create(graph, { graphOptimizationLevel: 'all', optimizedModelFilePath: path.join(dir, file), logSeverityLevel: 4 });
    open.push(s);
    const ops = onnxProto.onnx.ModelProto.decode(fs.readFileSync(path.join(dir, file))).graph!.node!.map((n) => n.opType);
    return { s, pools: ops.filter((o) => /AveragePool/.test(o!)) };
  };
  try {
    const unfused = await opType(qbytes, 'unfused.onnx');
    const fused = await opType(fusedBytes, 'fused.onnx');
    assert.deepEqual(unfused.pools, ['AveragePool']);
    assert.deepEqual(fused.pools, ['QLinearAveragePool']); // what the extra output prevents
    for (const x of images(4, 9)) {
      const feed = { image: new ort.Tensor('float32', x, [1, 3, 32, 32]) };
      assert.deepEqual((await unfused.s.run(feed, ['out'])).out.data, (await fused.s.run(feed, ['out'])).out.data);
    }
  } finally {
    await Promise.all(open.map((s) => s.release()));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('an int8 model finds planted defects, reloads to the same scores and exports with the int8 backbone', async () => {
  const { model, dir } = await fitSynthetic({ train: 12, precision: 'int8' });
  assert.equal(model.config.backbone.int8?.images, 8);
  assert.equal(model.config.backbone.hash, (await loadBackbone('inception_v3')).hash, 'the model names the float graph it quantized');
  const good: number[] = [];
  for (let i = 0; i < 4; i++) good.push((await model.predict(syntheticSample(900 + i, 'good', SIZE).image)).score);
  const bad: number[] = [];
  for (const kind of ['scratch', 'missing'] as const) bad.push((await model.predict(syntheticSample(710, kind, SIZE).image)).score);
  assert.ok(Math.min(...bad) > Math.max(...good), `defects ${bad} vs good ${good}`);

  const mdir = path.join(dir, 'model');
  await model.save(mdir);
  const again = await PatchCore.open(mdir);
  assert.ok(again.extractor.backbone.int8, 'reloaded backbone is int8');
  const img = syntheticSample(710, 'scratch', SIZE).image;
  const ref = await model.predict(img);
  assert.equal((await again.predict(img)).score, ref.score);

  const ex = await exportModel(model);
  assert.ok(ex.sizes.backbone < 8e6, `exported backbone ${ex.sizes.backbone} bytes: int8 weights expected (fp32 is ~20 MB)`);
  const graph = await OnnxPredictor.fromBytes(ex.bytes, ex.sidecar);
  const g = await graph.predict(img);
  assert.ok(Math.abs(g.score - ref.score) <= 1e-4 * ref.score, `exported graph ${g.score} vs predict ${ref.score}`);
});
