// Inline the backbone's ONNX graph into the export graph: its nodes and initializers are copied
// with a name prefix (so they cannot clash with the head's), and its image input is renamed to
// the tensor the head feeds it.
import onnxProto from 'onnx-proto';
import { UserError } from '../util/errors.js';

const { onnx } = onnxProto;
type Graph = onnxProto.onnx.IGraphProto;
type Node = onnxProto.onnx.INodeProto;

export const BACKBONE_PREFIX = 'backbone/';

export interface InlinedBackbone {
  /** Prefixed names of the two feature outputs, shallow then deep. */
  outputs: [string, string];
  /** Opsets the backbone needs besides the default domain. */
  extraOpsets: onnxProto.onnx.IOperatorSetIdProto[];
}

/**
 * Copy the backbone graph into `graph` (whose nodes need not be in order yet), reading its
 * image from tensor `input`. Tensor names of the backbone become BACKBONE_PREFIX + name.
 */
export function inlineBackbone(graph: Graph, bytes: Uint8Array, layers: [string, string], input: string): InlinedBackbone {
  const m = onnx.ModelProto.decode(bytes);
  const bg = m.graph!;
  const version = Number(m.opsetImport?.find((o) => !o.domain)?.version ?? 0);
  // The head is opset 17; ops whose signature changed between 13 and 17 would be misread.
  if (version < 13 || version > 17) throw new UserError(`backbone graph uses opset ${version}; export supports backbones of opset 13–17`);
  const inits = new Set((bg.initializer ?? []).map((t) => t.name));
  const imageInputs = (bg.input ?? []).filter((i) => !inits.has(i.name));
  if (imageInputs.length !== 1) throw new UserError(`backbone graph has ${imageInputs.length} non-constant inputs; export needs exactly one (the image)`);
  const image = imageInputs[0].name!;
  const rename = (n: string) => (n === '' ? '' : n === image ? input : BACKBONE_PREFIX + n);
  for (const n of bg.node ?? []) {
    if ((n.attribute ?? []).some((a) => a.g || a.graphs?.length))
      throw new UserError(`backbone node ${n.name} (${n.opType}) holds a subgraph; export cannot inline control flow`);
    n.input = (n.input ?? []).map(rename);
    n.output = (n.output ?? []).map(rename);
    n.name = BACKBONE_PREFIX + (n.name ?? '');
  }
  for (const t of bg.initializer ?? []) t.name = rename(t.name!);
  graph.node = [...(bg.node ?? []), ...(graph.node ?? [])];
  graph.initializer = [...(graph.initializer ?? []), ...(bg.initializer ?? [])];
  return {
    outputs: layers.map((l) => BACKBONE_PREFIX + l) as [string, string],
    extraOpsets: (m.opsetImport ?? []).filter((o) => o.domain),
  };
}

/** Order nodes so each comes after the producers of its inputs (ONNX requires it). */
export function topoSort(graph: Graph): void {
  const nodes = graph.node ?? [];
  const producer = new Map<string, number>();
  for (const [i, n] of nodes.entries()) for (const o of n.output ?? []) producer.set(o, i);
  const state = new Uint8Array(nodes.length); // 0 new, 1 visiting, 2 done
  const order: Node[] = [];
  for (let root = 0; root < nodes.length; root++) {
    if (state[root]) continue;
    // iterative DFS: deep backbones would overflow a recursive one
    const stack: [number, number][] = [[root, 0]];
    state[root] = 1;
    while (stack.length) {
      const top = stack[stack.length - 1];
      const ins = nodes[top[0]].input ?? [];
      if (top[1] < ins.length) {
        const p = producer.get(ins[top[1]++]);
        if (p === undefined || state[p] === 2) continue;
        if (state[p] === 1) throw new Error(`graph has a cycle through ${nodes[p].name}`);
        state[p] = 1;
        stack.push([p, 0]);
      } else {
        state[top[0]] = 2;
        order.push(nodes[top[0]]);
        stack.pop();
      }
    }
  }
  graph.node = order;
}
