// torchvision ResNet architectures up to layer3, and the checkpoint tensors each one needs.
import type { TorchvisionArch } from '../weights/catalog.js';

export type BlockKind = 'basic' | 'bottleneck';

export interface StageConfig {
  blocks: number;
  /** Inner width of a bottleneck (planes × width_per_group/64); equals `out` for basic blocks. */
  width: number;
  out: number;
  stride: number;
}

export interface ResNetConfig {
  block: BlockKind;
  stem: number; // conv1 output channels
  stages: [StageConfig, StageConfig, StageConfig]; // layer1..layer3
}

export const RESNET_CONFIGS: Record<TorchvisionArch, ResNetConfig> = {
  // Bottleneck, layers [3,4,6,3], width ×2: inner widths 128/256/512, outputs 256/512/1024
  wide_resnet50_2: {
    block: 'bottleneck',
    stem: 64,
    stages: [
      { blocks: 3, width: 128, out: 256, stride: 1 },
      { blocks: 4, width: 256, out: 512, stride: 2 },
      { blocks: 6, width: 512, out: 1024, stride: 2 },
    ],
  },
  // BasicBlock, layers [2,2,2,2]
  resnet18: {
    block: 'basic',
    stem: 64,
    stages: [
      { blocks: 2, width: 64, out: 64, stride: 1 },
      { blocks: 2, width: 128, out: 128, stride: 2 },
      { blocks: 2, width: 256, out: 256, stride: 2 },
    ],
  },
};

/** One conv + BatchNorm pair: the checkpoint prefixes and the conv geometry. */
export interface ConvBn {
  conv: string; // e.g. 'layer1.0.conv2'
  bn: string; // e.g. 'layer1.0.bn2'
  cin: number;
  cout: number;
  k: number;
  stride: number;
}

export interface BlockPlan {
  stage: number; // 1-based
  convs: ConvBn[]; // main path, in order; ReLU after each but the last
  downsample?: ConvBn;
}

/** The blocks in execution order, as torchvision names them (stride on the 3×3 conv: ResNet v1.5). */
export function planBlocks(cfg: ResNetConfig): BlockPlan[] {
  const plans: BlockPlan[] = [];
  let cin = cfg.stem;
  cfg.stages.forEach((st, si) => {
    for (let b = 0; b < st.blocks; b++) {
      const p = `layer${si + 1}.${b}`;
      const stride = b === 0 ? st.stride : 1;
      const cb = (i: number, ci: number, co: number, k: number, s: number): ConvBn => ({
        conv: `${p}.conv${i}`,
        bn: `${p}.bn${i}`,
        cin: ci,
        cout: co,
        k,
        stride: s,
      });
      const convs =
        cfg.block === 'bottleneck'
          ? [cb(1, cin, st.width, 1, 1), cb(2, st.width, st.width, 3, stride), cb(3, st.width, st.out, 1, 1)]
          : [cb(1, cin, st.out, 3, stride), cb(2, st.out, st.out, 3, 1)];
      const needsDown = stride !== 1 || cin !== st.out;
      const downsample = needsDown ? { conv: `${p}.downsample.0`, bn: `${p}.downsample.1`, cin, cout: st.out, k: 1, stride } : undefined;
      plans.push({ stage: si + 1, convs, downsample });
      cin = st.out;
    }
  });
  return plans;
}

export function stemConv(cfg: ResNetConfig): ConvBn {
  return { conv: 'conv1', bn: 'bn1', cin: 3, cout: cfg.stem, k: 7, stride: 2 };
}

/** Every conv+BN pair of the graph, stem first. */
export function allConvBns(cfg: ResNetConfig): ConvBn[] {
  return [stemConv(cfg), ...planBlocks(cfg).flatMap((b) => (b.downsample ? [...b.convs, b.downsample] : b.convs))];
}

/** Checkpoint tensor names and shapes the graph needs (convs have no bias in torchvision ResNets). */
export function requiredTensors(cfg: ResNetConfig): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const c of allConvBns(cfg)) {
    out.set(`${c.conv}.weight`, [c.cout, c.cin, c.k, c.k]);
    for (const s of ['weight', 'bias', 'running_mean', 'running_var']) out.set(`${c.bn}.${s}`, [c.cout]);
  }
  return out;
}

/** Trainable parameters (conv weights, BN weight and bias), i.e. torchvision's count before BN folding. */
export function parameterCount(cfg: ResNetConfig): number {
  let n = 0;
  for (const [name, shape] of requiredTensors(cfg)) if (!name.includes('running_')) n += shape.reduce((a, b) => a * b, 1);
  return n;
}
