// Where the pretrained torchvision weights come from (timm's safetensors re-uploads, BSD-3-Clause).
import * as path from 'node:path';
import { cacheDir } from '../cache.js';

export type TorchvisionArch = 'wide_resnet50_2' | 'resnet18';

export interface WeightsSource {
  arch: TorchvisionArch;
  url: string;
  sha256: string;
  /** Approximate download size: all float32 parameters and BN buffers of the full network plus the JSON header. */
  bytes: number;
  licence: string;
}

export const WEIGHTS: Record<TorchvisionArch, WeightsSource> = {
  wide_resnet50_2: {
    arch: 'wide_resnet50_2',
    url: 'https://huggingface.co/timm/wide_resnet50_2.tv_in1k/resolve/main/model.safetensors',
    sha256: 'df6fb6c4824769769de18e14088475fd6ee94236849aa4e5d8022ba9d9a9a16c',
    bytes: 275_830_000, // 68.95 M floats (68.88 M params + BN running stats)
    licence: 'BSD-3-Clause (torchvision)',
  },
  resnet18: {
    arch: 'resnet18',
    url: 'https://huggingface.co/timm/resnet18.tv_in1k/resolve/a987fd6b60f845221bfff84b6f0191273ba56ead/model.safetensors',
    sha256: '694f673df6520a3158624e8a89af086f59923ee4cd7436fe5bc3bc71d295ad81',
    bytes: 46_810_000, // 11.70 M floats (11.69 M params + BN running stats)
    licence: 'BSD-3-Clause (torchvision)',
  },
};

/** Where `patchcore backbone fetch` stores the verified download. */
export function weightsPath(arch: TorchvisionArch): string {
  return path.join(cacheDir(), 'weights', `${arch}.safetensors`);
}
