// The int8 graph's rewrite (onnx/pool-after-conv.ts): AveragePool → 1×1 Conv becomes 1×1 Conv →
// AveragePool only where that is the same function, checked against ONNX Runtime on the float graph;
// models calibrated before it rebuild the graph they were fitted with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import onnxProto from 'onnx-proto';
import './helpers.js';
import { GraphBuilder } from '../src/onnx/builder.js';
import { createSession, ort } from '../src/onnx/session.js';
import { poolAfterConv } from '../src/onnx/pool-after-conv.js';
import { onnxBackbone } from '../src/backbone/backbone.js';
import { int8Backbone, quantizeBackbone } from '../src/backbone/int8.js';
import { Rng } from '../src/util/rng.js';
import { calibrationModel, quantizeModel, updateRanges, type Ranges } from '../src/onnx/quantize.js';

const S = 12;

/**
 * Pool branches on one feature map: two that commute with their 1×1 Conv (explicit pads and
 * SAME_UPPER, both count_include_pad 0), and others that must stay: padding counted as zeros, a 3×3
 * Conv, a pool with a second consumer, a grouped Conv, a pool that is a graph output.
 */
function branches(): Uint8Array {
  const rng = new Rng(5);
  const rand = (n: number, s: number) => Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * s);
  const g = new GraphBuilder('pools');
  const x = g.input('image', [1, 3, S, S]);
  const conv = (inp: string, cin: number, cout: number, k: number, name?: string) =>
    g.op('Conv', [inp, g.init(g.fresh('w'), [cout, cin, k, k], rand(cout * cin * k * k, 0.4)), g.init(g.fresh('b'), [cout], rand(cout, 0.5))], { pads: Array(4).fill(k >> 1) }, name);
  const a = g.op('Relu', [conv(x, 3, 8, 3)]);
  const pool = (attrs: Record<string, number | number[] | string>) => g.op('AveragePool', [a], { kernel_shape: [3, 3], strides: [1, 1], ...attrs });
  const shared = pool({ pads: [1, 1, 1, 1] });
  const grouped = g.op('Conv', [pool({ pads: [1, 1, 1, 1] }), g.init(g.fresh('w'), [4, 2, 1, 1], rand(8, 0.4))], { group: 4 });
  const outs = [
    g.op('Relu', [conv(pool({ pads: [1, 1, 1, 1], count_include_pad: 0 }), 8, 4, 1)]),
    conv(pool({ auto_pad: 'SAME_UPPER' }), 8, 4, 1),
    conv(pool({ pads: [1, 1, 1, 1], count_include_pad: 1 }), 8, 4, 1),
    conv(pool({ pads: [1, 1, 1, 1] }), 8, 4, 3),
    conv(shared, 8, 4, 1), // a pool with two consumers stays
    g.op('Relu', [shared]),
    grouped, // not pointwise across all channels: stays
    conv(g.op('AveragePool', [a], { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1] }, 'pooled_out'), 8, 4, 1), // a graph output: stays
  ];
  g.op('Concat', outs, { axis: 1 }, 'out');
  g.output('out', [1, 36, S, S]);
  g.output('pooled_out', [1, 8, S, S]);
  return g.toBytes();
}

function input(seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: 3 * S * S }, () => rng.next() * 2 - 1);
}

const prepools = (bytes: Uint8Array) => onnxProto.onnx.ModelProto.decode(bytes).graph!.node!.filter((n) => n.output!.some((o) => o.endsWith('__prepool'))).length;

test('pools move after the 1×1 convs they feed only where that computes the same', async () => {
  const bytes = branches();
  const moved = poolAfterConv(bytes);
  assert.equal(prepools(moved), 2, 'only the two commuting branches');
  const before = await createSession(bytes);
  const after = await createSession(moved);
  for (const seed of [1, 2]) {
    const feed = { image: new ort.Tensor('float32', input(seed), [1, 3, S, S]) };
    const a = (await before.run(feed)).out.data as Float32Array;
    const b = (await after.run(feed)).out.data as Float32Array;
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / (1 + Math.abs(a[i])));
    assert.ok(worst < 1e-5, `float outputs differ by ${worst}`);
  }
  // the guard matters: moving the pool that counts padding as zeros changes the borders
  const forced = onnxProto.onnx.ModelProto.decode(bytes);
  const counted = forced.graph!.node!.find((n) => n.opType === 'AveragePool' && n.attribute!.some((t) => t.name === 'count_include_pad' && Number(t.i) === 1))!;
  counted.attribute!.find((t) => t.name === 'count_include_pad')!.i = 0;
  const swapped = onnxProto.onnx.ModelProto.decode(poolAfterConv(onnxProto.onnx.ModelProto.encode(forced).finish()));
  assert.equal(swapped.graph!.node!.filter((n) => n.output!.some((o) => o.endsWith('__prepool'))).length, 3);
  swapped.graph!.node!.find((n) => n.name === counted.name)!.attribute!.find((t) => t.name === 'count_include_pad')!.i = 1;
  const wrong = await createSession(onnxProto.onnx.ModelProto.encode(swapped).finish());
  const feed = { image: new ort.Tensor('float32', input(1), [1, 3, S, S]) };
  const a = (await before.run(feed)).out.data as Float32Array;
  const c = (await wrong.run(feed)).out.data as Float32Array;
  assert.ok(a.some((v, i) => Math.abs(v - c[i]) > 1e-3), 'a padded, zero-counting pool does not commute');
});

test('new int8 calibrations use the moved pools; a calibration without the flag rebuilds the graph as built', async () => {
  const spec = { id: 'pools', layers: ['out', 'out'] as [string, string], mean: [0, 0, 0] as [number, number, number], std: [1, 1, 1] as [number, number, number], strides: [1, 1] as [number, number] };
  const float = await onnxBackbone(spec, branches(), 'hash');
  const tensors = [1, 2, 3].map((s) => ({ dims: [1, 3, S, S], data: input(s) }));
  const fresh = await int8Backbone(float, tensors);
  assert.equal(fresh.int8?.poolAfterConv, true);
  assert.equal(prepools(fresh.int8Graph!), 2);
  const ranges = fresh.int8!.ranges;
  assert.ok(Object.keys(ranges).some((k) => k.endsWith('__prepool')), 'the moved convs are calibrated');
  // a calibration from before: ranges measured on the graph as built, no flag
  const calib = calibrationModel(branches());
  const cs = await createSession(calib.bytes);
  const oldRanges: Ranges = {};
  for (const t of tensors) updateRanges(oldRanges, await cs.run({ image: new ort.Tensor('float32', t.data, t.dims) }), calib.names);
  const old = await quantizeBackbone(float, { images: 3, ranges: oldRanges });
  assert.deepEqual(old.int8Graph, quantizeModel(branches(), oldRanges), 'the int8 graph it was fitted with');
  assert.equal(prepools(old.int8Graph!), 0);
  const again = await quantizeBackbone(float, fresh.int8!);
  assert.deepEqual(again.int8Graph, fresh.int8Graph, 'a saved calibration rebuilds the same int8 graph');
  const [a] = await fresh.run(tensors[0]);
  const [b] = await again.run(tensors[0]);
  assert.deepEqual(a.deep.data, b.deep.data);
});
