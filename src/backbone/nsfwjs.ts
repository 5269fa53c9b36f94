// The default offline backbones: nsfwjs's bundled ImageNet-derived CNNs, converted to ONNX here.
// Side-effect import: registers 'inception_v3' and 'mobilenet_v2'.
// nsfwjs feeds every model RGB/255 in [0,1] (core.js: img.toFloat().div(255)), so mean 0 / std 1.
import type { BackboneSpec } from '../types.js';
import { registerBackbone } from './registry.js';
import { loadNsfwjsModel } from './keras/weights.js';
import { convertKerasLayers } from './keras/layers.js';

/** Bump when the converter's output changes, so cached graphs are rebuilt. */
export const CONVERTER_VERSION = 'k1';

interface NsfwjsBackbone {
  id: string;
  module: string;
  exportKey: string;
  layers: [string, string];
  description: string;
}

const BACKBONES: NsfwjsBackbone[] = [
  {
    id: 'inception_v3',
    module: 'nsfwjs/models/inception_v3',
    exportKey: 'InceptionV3Model',
    layers: ['mixed2', 'mixed5'], // 288 ch at stride 8, 768 ch at stride 16
    description: 'InceptionV3 (nsfwjs weights), mixed2 + mixed5; default',
  },
  {
    id: 'mobilenet_v2',
    module: 'nsfwjs/models/mobilenet_v2',
    exportKey: 'MobileNetV2Model',
    // The last activation at each stride: the ReLU6 expansion that feeds the next stride-2
    // depthwise conv (block_6: 192 ch at stride 8; block_13: 576 ch at stride 16, the layer
    // SSDLite also taps). Wider and post-nonlinearity, unlike the 32/96-ch linear block outputs.
    layers: ['block_6_expand_relu', 'block_13_expand_relu'],
    description: 'MobileNetV2 (nsfwjs weights), block_6/13 expansions; small and fast',
  },
];

/** ONNX bytes of an nsfwjs Keras model, cut after `outputs`. */
export async function buildNsfwjsGraph(module: string, exportKey: string, outputs: string[]): Promise<Uint8Array> {
  const model = await loadNsfwjsModel(module, exportKey);
  return convertKerasLayers(model.json.modelTopology, model.weights, { outputs }).bytes;
}

for (const b of BACKBONES) {
  const spec: BackboneSpec = { id: b.id, layers: b.layers, mean: [0, 0, 0], std: [1, 1, 1], strides: [8, 16] };
  registerBackbone({
    spec,
    description: b.description,
    build: () => buildNsfwjsGraph(b.module, b.exportKey, b.layers),
    cacheName: () => `nsfwjs-${b.id}-${b.layers.join('-')}-${CONVERTER_VERSION}.onnx`,
  });
}
