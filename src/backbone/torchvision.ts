// Registers the pretrained torchvision backbones (side-effect module). Weights come from --weights FILE
// or from `patchcore backbone fetch`; building never downloads.
import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { registerBackbone, type BackboneOptions } from './registry.js';
import { WEIGHTS, weightsPath, type TorchvisionArch } from './weights/catalog.js';
import { offlineError } from './weights/download.js';
import { loadWeightsFile } from './weights/load.js';
import { buildResNetOnnx } from './resnet/build.js';
import { sha256 } from '../util/hash.js';
import { UserError } from '../util/errors.js';
import type { BackboneSpec } from '../types.js';

const BUILD_VERSION = 'r1'; // bump when the graph construction changes
export const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];
const INPUT_SIZE = 224;

const DESCRIPTIONS: Record<TorchvisionArch, string> = {
  wide_resnet50_2: 'WideResNet-50-2, ImageNet (torchvision V1), layer2+layer3: 512+1024 channels (PatchCore default)',
  resnet18: 'ResNet-18, ImageNet (torchvision V1), layer2+layer3: 128+256 channels (small and fast)',
};

export function torchvisionSpec(arch: TorchvisionArch): BackboneSpec {
  return { id: arch, layers: ['layer2', 'layer3'], mean: IMAGENET_MEAN, std: IMAGENET_STD, strides: [8, 16] };
}

/** The checkpoint a build would use: --weights, else the fetched file; throws the offline advice otherwise. */
export function resolveWeights(arch: TorchvisionArch, opts: BackboneOptions): string {
  if (opts.weights) {
    if (!existsSync(opts.weights)) throw new UserError(`weights file ${opts.weights}: no such file`);
    return opts.weights;
  }
  const cached = weightsPath(arch);
  if (existsSync(cached)) return cached;
  throw offlineError(arch, `not downloaded yet: run 'patchcore backbone fetch ${arch}'`);
}

for (const arch of Object.keys(WEIGHTS) as TorchvisionArch[]) {
  registerBackbone({
    spec: torchvisionSpec(arch),
    description: DESCRIPTIONS[arch],
    async build(opts) {
      return buildResNetOnnx(arch, await loadWeightsFile(resolveWeights(arch, opts))).bytes;
    },
    cacheName(opts) {
      // a user file is identified by path, size and mtime: cheap, and changes whenever the file does
      const file = resolveWeights(arch, opts);
      const st = statSync(file);
      const tag = opts.weights ? sha256(`${path.resolve(file)}:${st.size}:${st.mtimeMs}`).slice(0, 12) : 'tv';
      return `${arch}-${tag}-${BUILD_VERSION}.onnx`;
    },
  });
}

export interface TorchvisionBackboneInfo {
  name: TorchvisionArch;
  description: string;
  layers: [string, string];
  strides: [number, number];
  inputSize: number;
  mean: [number, number, number];
  std: [number, number, number];
  url: string;
  downloadBytes: number;
  licence: string;
  weightsFile: string;
  cached: boolean;
}

/** For `patchcore backbone list`. */
export function listTorchvisionBackbones(): TorchvisionBackboneInfo[] {
  return (Object.keys(WEIGHTS) as TorchvisionArch[]).map((arch) => {
    const spec = torchvisionSpec(arch);
    return {
      name: arch,
      description: DESCRIPTIONS[arch],
      layers: spec.layers,
      strides: spec.strides,
      inputSize: INPUT_SIZE,
      mean: spec.mean,
      std: spec.std,
      url: WEIGHTS[arch].url,
      downloadBytes: WEIGHTS[arch].bytes,
      licence: WEIGHTS[arch].licence,
      weightsFile: weightsPath(arch),
      cached: existsSync(weightsPath(arch)),
    };
  });
}

export { fetchWeights } from './weights/download.js';
export type { TorchvisionArch } from './weights/catalog.js';
