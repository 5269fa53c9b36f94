// WideResNet-50-2 to layer3 with seeded random weights (no download): the speed benchmarks'
// stand-in for the real WRN50 (same graph, same cost; its scores mean nothing).
import { buildResNetOnnx } from '../../src/backbone/resnet/build.js';
import { randomResNetWeights } from '../../src/backbone/resnet/random.js';
import { RESNET_CONFIGS } from '../../src/backbone/resnet/config.js';
import { onnxBackbone, type Backbone } from '../../src/backbone/backbone.js';
import { torchvisionSpec } from '../../src/backbone/torchvision.js';
import { sha256 } from '../../src/util/hash.js';

export function randomWrn50(): Promise<Backbone> {
  const built = buildResNetOnnx('wide_resnet50_2', randomResNetWeights(RESNET_CONFIGS.wide_resnet50_2, 0));
  return onnxBackbone(torchvisionSpec('wide_resnet50_2'), built.bytes, sha256(built.bytes));
}
