import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { convertKerasLayers, type KerasLayer } from '../src/backbone/keras/layers.js';
import { convertTfjsGraph } from '../src/backbone/keras/graph.js';
import type { KerasLayerConfig, KerasTopology, TfGraphTopology } from '../src/backbone/keras/topology.js';
import { loadNsfwjsModel, type WeightTensor } from '../src/backbone/keras/weights.js';
import '../src/backbone/nsfwjs.js';
import { backboneEntry, loadBackbone } from '../src/backbone/registry.js';
import { cacheDir } from '../src/backbone/cache.js';
import { createSession, ort } from '../src/onnx/session.js';
import { Rng } from '../src/util/rng.js';

process.env.PATCHCORE_CACHE = mkdtempSync(path.join(os.tmpdir(), 'pc-nsfwjs-'));
after(() => fs.rm(process.env.PATCHCORE_CACHE!, { recursive: true, force: true }));
const uniform = (seed: number) => {
  const r = new Rng(seed);
  return () => r.next();
};

// ---- Independent reference: a float64 NHWC interpreter of Keras layers using the raw
// Keras kernels (HWIO) and raw BN statistics, with TF's padding rules written out.
interface Img {
  h: number;
  w: number;
  c: number;
  d: Float64Array;
}

/** TF output size and leading pad; 'same' puts the odd extra pad at the end. */
function geom(n: number, k: number, s: number, padding: string) {
  if (padding === 'valid') return { out: Math.floor((n - k) / s) + 1, before: 0 };
  const out = Math.ceil(n / s);
  return { out, before: Math.floor(Math.max((out - 1) * s + k - n, 0) / 2) };
}

/** Visit every output position with its in-range window positions (input pixel offsets). */
function windows(x: Img, kh: number, kw: number, s: number[], padding: string, fn: (o: number, taps: [number, number][]) => void) {
  const gy = geom(x.h, kh, s[0], padding),
    gx = geom(x.w, kw, s[1], padding);
  for (let oy = 0; oy < gy.out; oy++)
    for (let ox = 0; ox < gx.out; ox++) {
      const taps: [number, number][] = []; // [pixel offset in x, kernel tap index]
      for (let ky = 0; ky < kh; ky++)
        for (let kx = 0; kx < kw; kx++) {
          const iy = oy * s[0] - gy.before + ky,
            ix = ox * s[1] - gx.before + kx;
          if (iy >= 0 && iy < x.h && ix >= 0 && ix < x.w) taps.push([(iy * x.w + ix) * x.c, ky * kw + kx]);
        }
      fn(oy * gx.out + ox, taps);
    }
  return { h: gy.out, w: gx.out };
}

function conv(x: Img, k: WeightTensor, s: number[], padding: string, depthwise: boolean): Img {
  const [kh, kw, ci, co] = k.shape;
  const oc = depthwise ? ci * co : co;
  const d = new Float64Array(geom(x.h, kh, s[0], padding).out * geom(x.w, kw, s[1], padding).out * oc);
  const { h, w } = windows(x, kh, kw, s, padding, (o, taps) => {
    for (const [p, t] of taps)
      for (let i = 0; i < ci; i++) for (let m = 0; m < co; m++) d[o * oc + (depthwise ? i * co + m : m)] += x.d[p + i] * k.data[(t * ci + i) * co + m];
  });
  return { h, w, c: oc, d };
}

function pool(x: Img, c: KerasLayerConfig, max: boolean): Img {
  const [kh, kw] = c.pool_size;
  const padding = c.padding as string;
  const d = new Float64Array(geom(x.h, kh, c.strides[0], padding).out * geom(x.w, kw, c.strides[1], padding).out * x.c);
  const { h, w } = windows(x, kh, kw, c.strides, padding, (o, taps) => {
    for (let i = 0; i < x.c; i++) {
      const v = taps.map(([p]) => x.d[p + i]);
      d[o * x.c + i] = max ? Math.max(...v) : v.reduce((a, b) => a + b, 0) / v.length; // TF: padding not counted
    }
  });
  return { h, w, c: x.c, d };
}

const map = (x: Img, fn: (v: number, ch: number) => number): Img => ({ ...x, d: x.d.map((v, i) => fn(v, i % x.c)) });

function reference(layers: KerasLayer[], W: Map<string, WeightTensor>, input: Img, target: string): Img {
  const vals = new Map<string, Img>();
  for (const l of layers) {
    const c = l.config;
    const ins = (l.inbound_nodes[0] ?? []).map((n) => vals.get(n[0])!);
    const x = ins[0];
    let y: Img;
    switch (l.class_name) {
      case 'InputLayer':
        y = input;
        break;
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        const dw = l.class_name === 'DepthwiseConv2D';
        y = conv(x, W.get(`${l.name}/${dw ? 'depthwise_kernel' : 'kernel'}`)!, c.strides, c.padding as string, dw);
        if (c.use_bias) {
          const b = W.get(`${l.name}/bias`)!.data;
          y = map(y, (v, ch) => v + b[ch]);
        }
        if (c.activation === 'relu') y = map(y, (v) => Math.max(v, 0));
        break;
      }
      case 'BatchNormalization': {
        const p = (n: string) => W.get(`${l.name}/${n}`)?.data;
        const [g, b, m, v] = [c.scale ? p('gamma') : null, c.center ? p('beta') : null, p('moving_mean')!, p('moving_variance')!];
        y = map(x, (u, ch) => ((u - m[ch]) / Math.sqrt(v[ch] + c.epsilon)) * (g ? g[ch] : 1) + (b ? b[ch] : 0));
        break;
      }
      case 'Activation':
        y = map(x, (v) => Math.max(v, 0));
        break;
      case 'ReLU':
        y = map(x, (v) => Math.min(Math.max(v, 0), c.max_value ?? Infinity));
        break;
      case 'MaxPooling2D':
        y = pool(x, c, true);
        break;
      case 'AveragePooling2D':
        y = pool(x, c, false);
        break;
      case 'Add':
        y = map(x, (v) => v);
        for (const z of ins.slice(1)) for (const [i, v] of z.d.entries()) y.d[i] += v;
        break;
      case 'Concatenate': {
        const cc = ins.reduce((s, z) => s + z.c, 0);
        y = { h: x.h, w: x.w, c: cc, d: new Float64Array(x.h * x.w * cc) };
        let off = 0;
        for (const z of ins) {
          for (let p = 0; p < z.h * z.w; p++) for (let i = 0; i < z.c; i++) y.d[p * cc + off + i] = z.d[p * z.c + i];
          off += z.c;
        }
        break;
      }
      case 'ZeroPadding2D': {
        const [[t, b], [le, r]] = c.padding as [[number, number], [number, number]];
        y = { h: x.h + t + b, w: x.w + le + r, c: x.c, d: new Float64Array((x.h + t + b) * (x.w + le + r) * x.c) };
        for (let i = 0; i < x.h; i++) y.d.set(x.d.subarray(i * x.w * x.c, (i + 1) * x.w * x.c), ((i + t) * y.w + le) * x.c);
        break;
      }
      default:
        throw new Error(`reference: ${l.class_name}`);
    }
    vals.set(l.name, y);
    if (l.name === target) return y;
  }
  throw new Error(`no layer ${target}`);
}

/** The same for a tfjs graph model's nodes (fused conv + BiasAdd + Relu6, Add/Mul/Sub). */
function referenceGraph(nodes: any[], W: Map<string, WeightTensor>, input: Img, target: string): Img {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const str = (v: string) => Buffer.from(v, 'base64').toString();
  const memo = new Map<string, Img | number>();
  const ev = (name: string): Img | number => {
    if (memo.has(name)) return memo.get(name)!;
    const n = byName.get(name);
    const [x, k, b] = (n.input ?? []).map((i: string) => (byName.get(i).op === 'Const' ? i : ev(i)));
    let y: Img | number;
    if (n.op === 'Const') y = W.get(name)!.data[0];
    else if (n.op === 'Placeholder') y = input;
    else if (n.op === 'Mul') y = map(k as Img, (v) => v * W.get(x)!.data[0]);
    else if (n.op === 'Sub') y = map(x, (v) => v - W.get(k)!.data[0]);
    else if (n.op === 'AddV2') {
      const z = k as Img;
      y = map(x, (v) => v);
      for (const [i, v] of z.d.entries()) (y as Img).d[i] += v;
    } else {
      const a = n.attr,
        ops = a.fused_ops.list.s.map(str),
        bias = W.get(b)!.data;
      y = conv(x, W.get(k)!, a.strides.list.i.slice(1, 3).map(Number), str(a.padding.s).toLowerCase(), n.op.includes('Depthwise'));
      y = map(y, (v, ch) => (ops.includes('Relu6') ? Math.min(Math.max(v + bias[ch], 0), 6) : v + bias[ch]));
    }
    memo.set(name, y);
    return y;
  };
  return ev(nodes.find((n) => n.name.endsWith('/' + target)).name) as Img;
}

/** Convert to ONNX with `outputs`, run on a random 1×3×size×size input, compare each with the reference. */
async function compare(topology: KerasTopology | TfGraphTopology, W: Map<string, WeightTensor>, outputs: string[], size: number, seed: number) {
  const rnd = uniform(seed);
  const nchw = Float32Array.from({ length: 3 * size * size }, () => rnd());
  const nhwc = new Float64Array(nchw.length);
  for (let ch = 0; ch < 3; ch++) for (let p = 0; p < size * size; p++) nhwc[p * 3 + ch] = nchw[ch * size * size + p];
  const graph = 'node' in topology;
  const { bytes } = graph ? convertTfjsGraph(topology, W, { outputs }) : convertKerasLayers(topology, W, { outputs });
  const session = await createSession(bytes, { threads: 2 });
  const out = await session.run({ image: new ort.Tensor('float32', nchw, [1, 3, size, size]) });
  for (const name of outputs) {
    const input = { h: size, w: size, c: 3, d: nhwc };
    const ref = graph ? referenceGraph(topology.node, W, input, name) : reference((topology as KerasTopology).model_config.config.layers, W, input, name);
    const got = out[name];
    assert.deepEqual(got.dims, [1, ref.c, ref.h, ref.w], name);
    const g = got.data as Float32Array;
    let diff = 0,
      mag = 0;
    for (let p = 0; p < ref.h * ref.w; p++)
      for (let ch = 0; ch < ref.c; ch++) {
        const r = ref.d[p * ref.c + ch];
        diff = Math.max(diff, Math.abs(g[ch * ref.h * ref.w + p] - r));
        mag = Math.max(mag, Math.abs(r));
      }
    // Relative to the output's magnitude: float32 + folded BN vs float64 reference.
    assert.ok(mag > 0 && diff <= 1e-4 * Math.max(1, mag), `${name}: max |diff| ${diff} for max |ref| ${mag}`);
  }
}

test('TF same padding (asymmetric at stride 2) in conv, max and average pooling', async () => {
  const layer = (name: string, class_name: string, config: object, inputs: string[]): KerasLayer =>
    ({ name, class_name, config, inbound_nodes: inputs.length ? [inputs.map((i) => [i, 0, 0, {}])] : [] }) as KerasLayer;
  const pool = { pool_size: [3, 3], strides: [2, 2], padding: 'same' };
  const layers = [
    layer('in', 'InputLayer', { batch_input_shape: [null, 12, 12, 3] }, []),
    layer('conv', 'Conv2D', { kernel_size: [3, 3], strides: [2, 2], padding: 'same', dilation_rate: [1, 1], activation: 'relu', use_bias: true }, ['in']),
    layer('avg', 'AveragePooling2D', pool, ['conv']),
    layer('max', 'MaxPooling2D', pool, ['conv']),
    layer('cat', 'Concatenate', { axis: -1 }, ['avg', 'max']),
  ];
  const rnd = uniform(7);
  const W = new Map([
    ['conv/kernel', { shape: [3, 3, 3, 4], data: Float32Array.from({ length: 108 }, () => rnd() - 0.5) }],
    ['conv/bias', { shape: [4], data: Float32Array.of(0.1, -0.2, 0.3, 0) }],
  ]);
  await compare({ model_config: { config: { layers } } }, W, ['cat', 'conv'], 12, 3);
});

test('inception_v3 up to mixed0 matches the float64 Keras reference on 1×3×75×75', async () => {
  const m = await loadNsfwjsModel('nsfwjs/models/inception_v3', 'InceptionV3Model');
  // conv2d_3 as an output keeps its BN unfolded, so both BN paths are checked.
  await compare(m.json.modelTopology, m.weights, ['mixed0', 'conv2d_3'], 75, 1);
});

test('mobilenet_v2 up to block_3_pad matches the reference (depthwise, ReLU6, Add, ZeroPadding)', async () => {
  const m = await loadNsfwjsModel('nsfwjs/models/mobilenet_v2', 'MobileNetV2Model');
  await compare(m.json.modelTopology, m.weights, ['block_3_pad', 'block_1_depthwise'], 33, 2);
});

test('mobilenet_v2_mid graph model up to expanded_conv_2/add matches the reference (SAME at stride 2, x·2−1 input)', async () => {
  const m = await loadNsfwjsModel('nsfwjs/models/mobilenet_v2_mid', 'MobileNetV2MidModel');
  assert.equal(m.json.format, 'graph-model');
  await compare(m.json.modelTopology, m.weights, ['MobilenetV2/expanded_conv_2/add', 'MobilenetV2/expanded_conv_1/depthwise/depthwise'], 32, 4);
});

test('inception_v3 backbone: 224 input gives finite mixed2/mixed5 maps; the cache is reused and a corrupt file rebuilt', async () => {
  const entry = backboneEntry('inception_v3');
  const build = entry.build;
  let builds = 0;
  entry.build = (o) => (builds++, build(o));
  try {
    const bb = await loadBackbone('inception_v3');
    assert.equal(builds, 1);
    const rnd = uniform(5);
    const [maps] = await bb.run({ dims: [1, 3, 224, 224], data: Float32Array.from({ length: 3 * 224 * 224 }, () => rnd()) });
    assert.deepEqual(maps.shallow.dims, [1, 288, 25, 25]);
    assert.deepEqual(maps.deep.dims, [1, 768, 12, 12]);
    for (const t of [maps.shallow, maps.deep]) assert.ok(t.data.every(Number.isFinite) && t.data.some((v) => v > 0));

    assert.equal((await loadBackbone('inception_v3')).hash, bb.hash);
    assert.equal(builds, 1, 'second load reads the cache');

    const file = path.join(cacheDir(), entry.cacheName({}));
    const bytes = await fs.readFile(file);
    bytes[bytes.length >> 1] ^= 0xff;
    await fs.writeFile(file, bytes);
    assert.equal((await loadBackbone('inception_v3')).hash, bb.hash, 'rebuilt graph is identical');
    assert.equal(builds, 2, 'corrupt cache file is rebuilt');
  } finally {
    entry.build = build;
  }
});
