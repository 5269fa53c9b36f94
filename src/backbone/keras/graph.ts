// tfjs graph model (TF GraphDef as JSON, NHWC) -> ONNX graph in NCHW.
// Covers the ops of converter-optimised CNNs: fused conv/depthwise conv (+BiasAdd, +Relu/Relu6),
// element-wise Add/Mul/Sub with constants, Relu/Relu6. BN is already folded by the tfjs converter.
// Outputs are given as node-name suffixes ('MobilenetV2/expanded_conv_6/expand/Relu6') and named so.
import { GraphBuilder, type Attr } from '../../onnx/builder.js';
import { onnxKernel } from './kernel.js';
import type { ConvertResult } from './layers.js';
import type { WeightTensor } from './weights.js';
import type { TfAttr, TfGraphTopology, TfNode } from './topology.js';

const b64 = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString();
const ints = (a: TfAttr | undefined): number[] => (a?.list?.i ?? []).map(Number);

export function convertTfjsGraph(topology: TfGraphTopology, weights: Map<string, WeightTensor>, opts: { outputs: string[]; input?: string }): ConvertResult {
  const byName = new Map(topology.node.map((n) => [n.name, n]));
  const inputsOf = (n: TfNode) => (n.input ?? []).filter((i) => !i.startsWith('^')).map((i) => i.replace(/:0$/, ''));
  const resolve = (suffix: string): TfNode => {
    const hits = topology.node.filter((n) => n.name === suffix || n.name.endsWith('/' + suffix));
    if (hits.length !== 1) throw new Error(`graph output '${suffix}' matches ${hits.length} nodes`);
    return hits[0];
  };
  const outNodes = opts.outputs.map(resolve);

  const g = new GraphBuilder('tfjs');
  const input = opts.input ?? 'image';
  g.input(input, ['N', 3, 'H', 'W']);
  const tensor = new Map<string, string>(); // TF node -> ONNX tensor
  const channels = new Map<string, number>();
  const constant = (name: string): WeightTensor => {
    const w = weights.get(name);
    if (byName.get(name)?.op !== 'Const' || !w) throw new Error(`expected constant weight ${name}`);
    return w;
  };

  // Post-order DFS from the outputs: emits exactly the needed nodes, inputs first.
  const visit = (n: TfNode): void => {
    if (tensor.has(n.name) || n.op === 'Const') return;
    const ins = inputsOf(n);
    for (const i of ins) visit(byName.get(i) ?? fail(`missing node ${i}`));
    const a = n.attr ?? {};
    const x = tensor.get(ins[0])!;
    const set = (t: string, ch = channels.get(ins[0])!) => (tensor.set(n.name, t), channels.set(n.name, ch));
    switch (n.op) {
      case 'Placeholder': {
        if (Number(a.shape?.shape?.dim?.[3]?.size) !== 3) throw new Error(`input ${n.name} is not NHWC with 3 channels`);
        set(input, 3);
        break;
      }
      case '_FusedConv2D':
      case 'FusedDepthwiseConv2dNative':
      case 'Conv2D':
      case 'DepthwiseConv2dNative': {
        if (a.data_format && b64(a.data_format.s) !== 'NHWC') throw new Error(`${n.name}: data_format ${b64(a.data_format.s)}`);
        const fused: string[] = (a.fused_ops?.list?.s ?? []).map(b64);
        const depthwise = n.op.includes('Depthwise');
        const k = onnxKernel(constant(ins[1]), depthwise, channels.get(ins[0])!);
        const bias = fused[0] === 'BiasAdd' ? constant(ins[2]).data : new Float32Array(k.dims[0]);
        if (fused.length && fused[0] !== 'BiasAdd') throw new Error(`${n.name}: fused ops ${fused}`);
        const padding = b64(a.padding.s);
        const pad: Record<string, Attr> =
          padding === 'SAME' ? { auto_pad: 'SAME_UPPER' } : padding === 'VALID' ? { pads: [0, 0, 0, 0] } : fail(`${n.name}: padding ${padding}`);
        const [, sh, sw] = ints(a.strides);
        const dil = ints(a.dilations);
        const attrs = { kernel_shape: k.dims.slice(2), strides: [sh, sw], dilations: dil.length ? dil.slice(1, 3) : [1, 1], group: k.group, ...pad };
        let y = g.op('Conv', [x, g.init(`${n.name}/W`, k.dims, k.W), g.init(`${n.name}/B`, [k.dims[0]], Float32Array.from(bias))], attrs);
        for (const act of fused.slice(1)) y = activation(g, act, y, n.name);
        set(y, k.dims[0]);
        break;
      }
      case 'Relu':
      case 'Relu6':
        set(activation(g, n.op, x, n.name));
        break;
      case 'Add':
      case 'AddV2':
      case 'Mul':
      case 'Sub': {
        const op = n.op.startsWith('Add') ? 'Add' : n.op;
        const operands = ins.map((i) => (byName.get(i)!.op === 'Const' ? nchwConstant(g, i, constant(i)) : tensor.get(i)!));
        const data = ins.find((i) => byName.get(i)!.op !== 'Const')!;
        set(g.op(op, operands), channels.get(data)!);
        break;
      }
      case 'Identity':
        set(x);
        break;
      default:
        throw new Error(`${n.name}: TF op ${n.op} not supported`);
    }
  };
  outNodes.forEach(visit);

  const outChannels: Record<string, number> = {};
  opts.outputs.forEach((o, i) => {
    g.op('Identity', [tensor.get(outNodes[i].name)!], {}, o);
    outChannels[o] = channels.get(outNodes[i].name)!;
    g.output(o, ['N', outChannels[o], `h${i}`, `w${i}`]);
  });
  return { bytes: g.toBytes('patchcore-ts tfjs graph converter'), channels: outChannels, parameters: g.parameterCount() };
}

function activation(g: GraphBuilder, op: string, x: string, name: string): string {
  if (op === 'Relu') return g.op('Relu', [x]);
  if (op === 'Relu6') return g.op('Clip', [x, g.scalar(g.fresh('zero'), 0), g.scalar(g.fresh('six'), 6)]);
  throw new Error(`${name}: activation ${op} not supported`);
}

/** A scalar stays a scalar; a per-channel NHWC vector [C] becomes [C,1,1] to broadcast over NCHW. */
function nchwConstant(g: GraphBuilder, name: string, w: WeightTensor): string {
  const n = w.data.length;
  if (n === 1) return g.init(g.fresh(name), [], w.data);
  if (w.shape.length === 1) return g.init(g.fresh(name), [n, 1, 1], w.data);
  throw new Error(`constant ${name} of shape [${w.shape}] in an element-wise op`);
}

function fail(msg: string): never {
  throw new Error(msg);
}
