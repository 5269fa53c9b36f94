// Any ONNX model as a backbone: tap two intermediate tensors (made graph outputs, dequantized when
// int8), drop the rest of the graph, and learn their strides from one probe run at the input size.
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import onnxProto from 'onnx-proto';
import type { BackboneSpec } from '../types.js';
import { invalid, UserError } from '../util/errors.js';
import { sha256 } from '../util/hash.js';
import { createSession, ort } from '../onnx/session.js';
import { onnxBackbone, type Backbone, type BackboneRequest } from './backbone.js';
import { IMAGENET_MEAN, IMAGENET_STD } from './torchvision.js';

const { onnx } = onnxProto;
type Node = onnxProto.onnx.INodeProto;
type Triple = [number, number, number];
const FLOAT = onnx.TensorProto.DataType.FLOAT;

/** Quantized ops: index of the output scale input (the zero point follows it). */
const QUANT_SCALE_INPUT: Record<string, number> = {
  QuantizeLinear: 1,
  QLinearConv: 6,
  QLinearAdd: 6,
  QLinearMul: 6,
  QLinearMatMul: 6,
  QLinearGlobalAveragePool: 3,
  QLinearAveragePool: 3,
  QLinearLeakyRelu: 3,
  QLinearSigmoid: 3,
  QLinearConcat: 0,
};

export interface UserOnnx {
  bytes: Uint8Array;
  spec: BackboneSpec;
  /** [1,C,h,w] of both outputs at the probe size. */
  dims: [number[], number[]];
}

export async function userOnnxBackbone(file: string, layers: [string, string], mean: Triple, std: Triple, inputSize = 224): Promise<UserOnnx> {
  if (layers[0] === layers[1]) throw invalid('layers', 'two different tensor names', layers.join(','));
  const model = await readModel(file);
  const g = model.graph!;
  const producer = new Map<string, Node>();
  for (const n of g.node ?? []) for (const o of n.output ?? []) producer.set(o, n);
  const outputs = layers.map((requested) => {
    // a saved model records the dequantized name ('X_float'); map it back to the graph tensor X
    const name = !producer.has(requested) && requested.endsWith('_float') && producer.has(requested.slice(0, -6)) ? requested.slice(0, -6) : requested;
    const node = producer.get(name);
    if (!node) throw invalid('layers', `tensors of ${file}, e.g. ${sampleNames(g.node ?? [])}`, name);
    const scaleAt = QUANT_SCALE_INPUT[node.opType ?? ''];
    if (scaleAt === undefined || scaleAt === 0) return name;
    // int8/uint8 tensor: dequantize with the producer's output scale and zero point
    const out = `${name}_float`;
    g.node!.push({ opType: 'DequantizeLinear', input: [name, node.input![scaleAt], node.input![scaleAt + 1]], output: [out], name: `${out}_dequant` });
    return out;
  }) as [string, string];
  g.output = outputs.map((name) => ({ name, type: { tensorType: { elemType: FLOAT } } }));
  prune(g, outputs);
  const bytes = onnx.ModelProto.encode(model).finish();
  const dims = await probe(bytes, file, outputs, inputSize);
  const strides = dims.map((d) => Math.round(inputSize / d[2])) as [number, number];
  // absolute path: a saved model must find its backbone from any working directory
  return { bytes, dims, spec: { id: path.resolve(file), layers: outputs, mean, std, strides } };
}

/** Entry point for `--backbone model.onnx --layers A,B [--mean r,g,b --std r,g,b --input-size N]`. */
export async function loadUserOnnxBackbone(r: BackboneRequest): Promise<Backbone> {
  const layers = list(r.layers, (s) => s);
  if (layers?.length !== 2)
    throw invalid('layers', 'two tensor names of the .onnx backbone, shallow then deep (e.g. 365_quantized,426_quantized)', layers?.join(','));
  const mean = (list(r.mean, Number) ?? IMAGENET_MEAN) as Triple;
  const std = (list(r.std, Number) ?? IMAGENET_STD) as Triple;
  for (const [name, v] of [
    ['mean', mean],
    ['std', std],
  ] as const) {
    if (v.length !== 3 || v.some((x) => !Number.isFinite(x))) throw invalid(name, 'three numbers R,G,B', v.join(','));
  }
  const size = Number(r.inputSize ?? 224);
  if (!Number.isInteger(size) || size < 16) throw invalid('inputSize', 'an integer >= 16', r.inputSize);
  const u = await userOnnxBackbone(r.id, layers as [string, string], mean, std, size);
  return onnxBackbone(u.spec, u.bytes, sha256(u.bytes), r.device);
}

function list<T>(v: string | (string | number)[] | undefined, conv: (s: string) => T): T[] | undefined {
  if (v === undefined) return undefined;
  const parts = Array.isArray(v) ? v.map(String) : v.split(',');
  return parts
    .map((s) => s.trim())
    .filter((s) => s.length)
    .map(conv);
}

async function readModel(file: string): Promise<onnxProto.onnx.ModelProto> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    throw new UserError(`cannot read ONNX backbone ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const m = onnx.ModelProto.decode(bytes);
    if (!m.graph?.node?.length) throw new Error('no graph');
    return m;
  } catch (e) {
    throw new UserError(`${file} is not a usable ONNX model (${(e as Error).message})`);
  }
}

/** Keep only the nodes the new outputs depend on (the classifier head is dead weight now). */
function prune(g: onnxProto.onnx.IGraphProto, outputs: string[]): void {
  const needed = new Set(outputs);
  const keep: Node[] = [];
  for (const n of [...(g.node ?? [])].reverse()) {
    if (!(n.output ?? []).some((o) => needed.has(o))) continue;
    keep.push(n);
    for (const i of n.input ?? []) needed.add(i);
  }
  g.node = keep.reverse();
  g.initializer = (g.initializer ?? []).filter((t) => needed.has(t.name ?? ''));
}

async function probe(bytes: Uint8Array, file: string, outputs: string[], size: number): Promise<[number[], number[]]> {
  const session = await createSession(bytes);
  const input = session.inputNames[0];
  try {
    const res = await session.run({ [input]: new ort.Tensor('float32', new Float32Array(3 * size * size), [1, 3, size, size]) });
    const dims = outputs.map((o) => res[o].dims.map(Number));
    if (dims.some((d) => d.length !== 4)) throw invalid('layers', 'two 4-D feature maps [N,C,h,w]', `shapes [${dims[0]}] and [${dims[1]}]`);
    return dims as [number[], number[]];
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${file}: probe run on a 1×3×${size}×${size} image failed (${(e as Error).message.split('\n')[0]}); check --input-size`);
  }
}

/** A dozen tensor names spread over the graph, for error messages. */
function sampleNames(nodes: Node[]): string {
  const names = nodes.flatMap((n) => n.output ?? []);
  const step = Math.max(1, Math.floor(names.length / 12));
  return `${names
    .filter((_, i) => i % step === 0)
    .slice(0, 12)
    .join(', ')} (${names.length} in all)`;
}
