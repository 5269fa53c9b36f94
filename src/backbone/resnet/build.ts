// torchvision ResNet up to layer3 as an ONNX graph, BatchNorm folded into the convolutions.
import { GraphBuilder } from '../../onnx/builder.js';
import { UserError } from '../../util/errors.js';
import type { WeightMap } from '../weights/tensors.js';
import type { TorchvisionArch } from '../weights/catalog.js';
import { RESNET_CONFIGS, planBlocks, stemConv, requiredTensors, parameterCount, type ConvBn, type ResNetConfig } from './config.js';

const BN_EPS = 1e-5; // torchvision's BatchNorm2d default

export interface BuiltOnnx {
  bytes: Uint8Array;
  /** Parameters before folding (conv weights + BN weight/bias), comparable with torchvision's count. */
  params: number;
  /** Values stored in the ONNX graph after folding (conv weights + one bias per channel). */
  onnxParams: number;
}

/** Input `image` [N,3,H,W]; outputs `layer2` (stride 8) and `layer3` (stride 16). */
export function buildResNetOnnx(arch: TorchvisionArch | ResNetConfig, weights: WeightMap): BuiltOnnx {
  const cfg = typeof arch === 'string' ? RESNET_CONFIGS[arch] : arch;
  const label = typeof arch === 'string' ? arch : 'ResNet';
  checkWeights(weights, cfg, label);
  const g = new GraphBuilder(label);
  const convBn = (x: string, c: ConvBn, relu: boolean, out?: string): string => {
    const { w, b } = foldBn(weights, c);
    const y = g.op('Conv', [x, g.init(`${c.conv}.weight`, [c.cout, c.cin, c.k, c.k], w), g.init(`${c.conv}.bias`, [c.cout], b)], {
      kernel_shape: [c.k, c.k],
      strides: [c.stride, c.stride],
      pads: Array(4).fill(c.k >> 1),
    });
    return relu ? g.op('Relu', [y], {}, out) : y;
  };

  let x = g.input('image', ['N', 3, 'H', 'W']);
  x = convBn(x, stemConv(cfg), true);
  x = g.op('MaxPool', [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  const blocks = planBlocks(cfg);
  blocks.forEach((blk, i) => {
    const lastOfStage = i === blocks.length - 1 || blocks[i + 1].stage !== blk.stage;
    let y = x;
    for (const [j, c] of blk.convs.entries()) y = convBn(y, c, j < blk.convs.length - 1);
    const identity = blk.downsample ? convBn(x, blk.downsample, false) : x;
    x = g.op('Relu', [g.op('Add', [y, identity])], {}, lastOfStage ? `layer${blk.stage}` : undefined);
  });
  g.output('layer2', ['N', cfg.stages[1].out, 'h8', 'w8']);
  g.output('layer3', ['N', cfg.stages[2].out, 'h16', 'w16']);
  return { bytes: g.toBytes(), params: parameterCount(cfg), onnxParams: g.parameterCount() };
}

/** W' = W·γ/√(σ²+ε) per output channel, b' = β − μ·γ/√(σ²+ε); computed in double. */
function foldBn(weights: WeightMap, c: ConvBn): { w: Float32Array; b: Float32Array } {
  const get = (n: string) => weights.get(n)!.data;
  const w = get(`${c.conv}.weight`);
  const [gamma, beta, mean, variance] = ['weight', 'bias', 'running_mean', 'running_var'].map((s) => get(`${c.bn}.${s}`));
  const per = w.length / c.cout;
  const fw = new Float32Array(w.length);
  const fb = new Float32Array(c.cout);
  for (let o = 0; o < c.cout; o++) {
    const s = gamma[o] / Math.sqrt(variance[o] + BN_EPS);
    for (let i = o * per; i < (o + 1) * per; i++) fw[i] = w[i] * s;
    fb[o] = beta[o] - mean[o] * s;
  }
  return { w: fw, b: fb };
}

function checkWeights(weights: WeightMap, cfg: ResNetConfig, label: string): void {
  const missing: string[] = [];
  for (const [name, shape] of requiredTensors(cfg)) {
    const t = weights.get(name);
    if (!t) missing.push(name);
    else if (t.shape.join() !== shape.join()) {
      throw new UserError(`weights tensor ${name} has shape [${t.shape}] but ${label} needs [${shape}]: is this a ${label} checkpoint?`);
    }
  }
  if (missing.length) {
    const sample = missing.slice(0, 4).join(', ');
    throw new UserError(
      `weights lack ${missing.length} tensor(s) that ${label} needs (${sample}${missing.length > 4 ? ', ...' : ''}): is this a ${label} checkpoint?`,
    );
  }
}
