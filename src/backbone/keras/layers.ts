// Keras (2.2.x, channels_last) layers-model JSON + weights -> ONNX graph in NCHW.
// Only the layers the requested outputs depend on are emitted, so a backbone stops at its
// deepest feature layer. Every emitted layer's output tensor is named after the Keras layer.
// BatchNormalization directly after a linear conv is folded into the conv's weights and bias.
import { GraphBuilder, f, type Attr } from '../../onnx/builder.js';
import type { WeightTensor } from './weights.js';
import { onnxKernel } from './kernel.js';

import type { KerasLayer, KerasTopology } from './topology.js';

export type { KerasLayer } from './topology.js';

export interface KerasConvertOptions {
  /** Keras layer names to expose as graph outputs, e.g. ['mixed2', 'mixed5']. */
  outputs: string[];
  /** ONNX input name (NCHW, dynamic N/H/W); default 'image'. */
  input?: string;
}

export interface ConvertResult {
  bytes: Uint8Array;
  /** Channel count of each requested output. */
  channels: Record<string, number>;
  /** Number of float parameters stored. */
  parameters: number;
}

const CONVS = new Set(['Conv2D', 'DepthwiseConv2D']);

export function convertKerasLayers(topology: KerasTopology, weights: Map<string, WeightTensor>, opts: KerasConvertOptions): ConvertResult {
  const layers: KerasLayer[] = topology.model_config.config.layers;
  const byName = new Map(layers.map((l) => [l.name, l]));
  const inputsOf = (l: KerasLayer): string[] => {
    if (l.inbound_nodes.length > 1) throw new Error(`layer ${l.name} is shared; not supported`);
    return (l.inbound_nodes[0] ?? []).map((n) => n[0]);
  };

  // Ancestors of the outputs, and how many needed layers consume each one.
  const needed = new Set<string>();
  const stack = [...opts.outputs];
  while (stack.length) {
    const n = stack.pop()!;
    const l = byName.get(n);
    if (!l) throw new Error(`no Keras layer named '${n}'`);
    if (needed.has(n)) continue;
    needed.add(n);
    stack.push(...inputsOf(l));
  }
  const consumers = new Map<string, number>();
  for (const n of needed) for (const i of inputsOf(byName.get(n)!)) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  const foldInto = new Map<string, KerasLayer>(); // conv name -> its BN
  for (const n of needed) {
    const l = byName.get(n)!;
    if (l.class_name !== 'BatchNormalization') continue;
    const p = byName.get(inputsOf(l)[0])!;
    if (CONVS.has(p.class_name) && p.config.activation === 'linear' && consumers.get(p.name) === 1 && !opts.outputs.includes(p.name)) foldInto.set(p.name, l);
  }

  const g = new GraphBuilder('keras');
  const input = opts.input ?? 'image';
  g.input(input, ['N', 3, 'H', 'W']);
  const channels = new Map<string, number>();
  const done = new Set<string>();
  const w = (name: string): WeightTensor => {
    const t = weights.get(name);
    if (!t) throw new Error(`missing weight ${name}`);
    return t;
  };

  for (const l of layers) {
    if (!needed.has(l.name) || done.has(l.name)) continue;
    const c = l.config;
    const ins = inputsOf(l);
    const x = ins[0];
    const emit = (op: string, inputs: string[], attrs: Record<string, Attr> = {}, ch = channels.get(x)!): void => {
      g.op(op, inputs, attrs, l.name);
      channels.set(l.name, ch);
    };
    switch (l.class_name) {
      case 'InputLayer': {
        const ch = c.batch_input_shape[3];
        if (ch !== 3) throw new Error(`input layer has ${ch} channels`);
        emit('Identity', [input], {}, 3);
        break;
      }
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        const bn = foldInto.get(l.name);
        const out = bn ? bn.name : l.name;
        const conv = convWeights(l, channels.get(x)!, w, bn); // throws on a channel mismatch
        const pad: Record<string, Attr> = c.padding === 'same' ? { auto_pad: 'SAME_UPPER' } : { pads: [0, 0, 0, 0] };
        const W = g.init(`${l.name}/W`, conv.dims, conv.W);
        const B = g.init(`${l.name}/B`, [conv.dims[0]], conv.B);
        const attrs = { kernel_shape: c.kernel_size, strides: c.strides, dilations: c.dilation_rate, group: conv.group, ...pad };
        const act = c.activation;
        if (act !== 'linear' && act !== 'relu') throw new Error(`layer ${l.name}: activation ${act} not supported`);
        if (act === 'relu') g.op('Relu', [g.op('Conv', [x, W, B], attrs)], {}, out);
        else g.op('Conv', [x, W, B], attrs, out);
        channels.set(out, conv.dims[0]);
        done.add(out);
        break;
      }
      case 'BatchNormalization': {
        if (c.axis !== 3 && c.axis !== -1) throw new Error(`layer ${l.name}: BN axis ${c.axis}`);
        const n = channels.get(x)!;
        const gamma = c.scale ? w(`${l.name}/gamma`).data : new Float32Array(n).fill(1);
        const beta = c.center ? w(`${l.name}/beta`).data : new Float32Array(n);
        const ps = [gamma, beta, w(`${l.name}/moving_mean`).data, w(`${l.name}/moving_variance`).data].map((d, i) => g.init(`${l.name}/p${i}`, [n], d));
        emit('BatchNormalization', [x, ...ps], { epsilon: f(c.epsilon) });
        break;
      }
      case 'Activation':
        if (c.activation === 'relu') emit('Relu', [x]);
        else if (c.activation === 'linear') emit('Identity', [x]);
        else throw new Error(`layer ${l.name}: activation ${c.activation} not supported`);
        break;
      case 'ReLU': {
        if ((c.negative_slope ?? 0) !== 0 || (c.threshold ?? 0) !== 0) throw new Error(`layer ${l.name}: leaky/thresholded ReLU not supported`);
        if (c.max_value == null) emit('Relu', [x]);
        else emit('Clip', [x, g.scalar(`${l.name}/lo`, 0), g.scalar(`${l.name}/hi`, c.max_value)]);
        break;
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        const attrs: Record<string, Attr> = { kernel_shape: c.pool_size, strides: c.strides };
        if (c.padding === 'same') attrs.auto_pad = 'SAME_UPPER';
        // Keras/TF average pooling divides by the number of valid (unpadded) inputs.
        if (l.class_name === 'AveragePooling2D') attrs.count_include_pad = 0;
        emit(l.class_name === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool', [x], attrs);
        break;
      }
      case 'Concatenate':
        if (c.axis !== 3 && c.axis !== -1) throw new Error(`layer ${l.name}: concat axis ${c.axis}`);
        emit(
          'Concat',
          ins,
          { axis: 1 },
          ins.reduce((s, i) => s + channels.get(i)!, 0),
        );
        break;
      case 'Add':
        emit(ins.length === 2 ? 'Add' : 'Sum', ins);
        break;
      case 'ZeroPadding2D': {
        const [[t, b], [le, r]] = c.padding as number[][];
        emit('Pad', [x, g.ints(`${l.name}/pads`, [0, 0, t, le, 0, 0, b, r])]);
        break;
      }
      default:
        throw new Error(`layer ${l.name}: Keras layer ${l.class_name} not supported`);
    }
    done.add(l.name);
  }

  const outChannels: Record<string, number> = {};
  for (const o of opts.outputs) {
    outChannels[o] = channels.get(o)!;
    g.output(o, ['N', outChannels[o], `${o}_h`, `${o}_w`]);
  }
  return { bytes: g.toBytes('patchcore-ts keras converter'), channels: outChannels, parameters: g.parameterCount() };
}

/** ONNX weights and bias of a Keras conv layer, with an optional following BN folded in. */
function convWeights(l: KerasLayer, cin: number, w: (n: string) => WeightTensor, bn?: KerasLayer) {
  const depthwise = l.class_name === 'DepthwiseConv2D';
  const { W, dims, group } = onnxKernel(w(`${l.name}/${depthwise ? 'depthwise_kernel' : 'kernel'}`), depthwise, cin);
  const out = dims[0];
  const B = l.config.use_bias ? Float32Array.from(w(`${l.name}/bias`).data) : new Float32Array(out);
  if (bn) {
    const c = bn.config;
    const gamma = c.scale ? w(`${bn.name}/gamma`).data : null;
    const beta = c.center ? w(`${bn.name}/beta`).data : null;
    const mean = w(`${bn.name}/moving_mean`).data;
    const variance = w(`${bn.name}/moving_variance`).data;
    const per = W.length / out;
    for (let o = 0; o < out; o++) {
      const s = (gamma ? gamma[o] : 1) / Math.sqrt(variance[o] + c.epsilon);
      for (let j = 0; j < per; j++) W[o * per + j] *= s;
      B[o] = (B[o] - mean[o]) * s + (beta ? beta[o] : 0);
    }
  }
  return { W, B, dims, group };
}
