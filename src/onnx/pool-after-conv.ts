// AveragePool → 1×1 Conv becomes 1×1 Conv → AveragePool: the same function in float, since both
// are linear, the pool mixes no channels and averages only real pixels (count_include_pad 0, so the
// bias averages to itself). InceptionV3's pool branches then pool 32–192 channels instead of
// 192–768; in int8, ONNX Runtime's QLinearAveragePool was a quarter of the backbone's time at 384 px.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type Node = onnxProto.onnx.INodeProto;

const ints = (n: Node, name: string): number[] | undefined => n.attribute?.find((a) => a.name === name)?.ints?.map(Number);
const int = (n: Node, name: string): number | undefined => {
  const a = n.attribute?.find((x) => x.name === name);
  return a ? Number(a.i) : undefined;
};
const autoPad = (n: Node): string => {
  const s = n.attribute?.find((x) => x.name === 'auto_pad')?.s;
  return s?.length ? new TextDecoder().decode(s) : 'NOTSET';
};

/** A Conv that maps each pixel to itself: 1×1 kernel, stride 1, no padding (any auto_pad pads 0 here), no groups. */
function pointwise(n: Node, weightDims: number[] | undefined): boolean {
  const kernel = ints(n, 'kernel_shape') ?? weightDims?.slice(2);
  return (
    !!kernel?.length &&
    kernel.every((k) => k === 1) &&
    (ints(n, 'strides') ?? []).every((s) => s === 1) &&
    (ints(n, 'pads') ?? []).every((p) => p === 0) &&
    (int(n, 'group') ?? 1) === 1
  );
}

/** A pool whose average over the window is the same whatever the channel holds: only real pixels counted. */
function poolCommutes(n: Node): boolean {
  const padded = (ints(n, 'pads') ?? []).some((p) => p !== 0) || autoPad(n).startsWith('SAME');
  return !padded || (int(n, 'count_include_pad') ?? 0) === 0;
}

/** The graph with every AveragePool that feeds only a pointwise Conv moved after it; the output names stay. */
export function poolAfterConv(bytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const g = model.graph!;
  const nodes = g.node ?? [];
  const weights = new Map((g.initializer ?? []).map((t) => [t.name!, t.dims!.map(Number)]));
  const graphOutputs = new Set((g.output ?? []).map((o) => o.name!));
  const consumers = new Map<string, Node[]>();
  for (const n of nodes) for (const i of n.input ?? []) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  for (let i = 0; i < nodes.length; i++) {
    const pool = nodes[i];
    if (pool.opType !== 'AveragePool' || !poolCommutes(pool)) continue;
    const [pooled] = pool.output!;
    const cs = consumers.get(pooled) ?? [];
    if (cs.length !== 1 || graphOutputs.has(pooled)) continue;
    const conv = cs[0];
    if (conv.opType !== 'Conv' || conv.input![0] !== pooled || !pointwise(conv, weights.get(conv.input![1]))) continue;
    // the Conv moves up to the pool's place, so its weight and bias must not be computed in between
    if (!conv.input!.slice(1).every((t) => !t || weights.has(t))) continue;
    const j = nodes.indexOf(conv);
    const out = conv.output![0];
    const mid = `${out}__prepool`;
    conv.input![0] = pool.input![0];
    conv.output![0] = mid;
    pool.input![0] = mid;
    pool.output![0] = out;
    // the Conv now runs first: it takes the pool's place in the (topological) node order
    nodes[i] = conv;
    nodes[j] = pool;
  }
  return onnx.ModelProto.encode(model).finish();
}
