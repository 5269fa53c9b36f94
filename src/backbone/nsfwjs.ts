// The default offline backbones: nsfwjs's bundled ImageNet-derived CNNs, converted to ONNX here.
// Side-effect import: registers 'inception_v3', 'mobilenet_v2' (Keras layers models) and
// 'mobilenet_v2_mid' (a tfjs graph model that maps [0,1] to [-1,1] itself: hub_input x·2−1).
// nsfwjs feeds every model RGB/255 in [0,1] (core.js: img.toFloat().div(255)), so mean 0 / std 1.
// The Keras models' first BN moving means also fit [0,1] input on photos far better than the
// ImageNet [-1,1] convention (z-distance ≈0.8 vs ≈2.4): their BN statistics were learned on [0,1].
import type { BackboneSpec } from '../types.js';
import { registerBackbone } from './registry.js';
import { sha256 } from '../util/hash.js';
import { loadNsfwjsModel } from './keras/weights.js';
import { convertKerasLayers } from './keras/layers.js';
import { convertTfjsGraph } from './keras/graph.js';
import type { KerasTopology, TfGraphTopology } from './keras/topology.js';
import { cached } from './cache.js';

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
  {
    id: 'mobilenet_v2_mid',
    module: 'nsfwjs/models/mobilenet_v2_mid',
    exportKey: 'MobileNetV2MidModel',
    // Same taps as mobilenet_v2 in TF-slim naming (width 1.4: 288 ch at stride 8, 816 at stride 16).
    layers: ['MobilenetV2/expanded_conv_6/expand/Relu6', 'MobilenetV2/expanded_conv_13/expand/Relu6'],
    description: 'MobileNetV2 1.4 (nsfwjs mid graph model), expanded_conv_6/13 expansions',
  },
];

/** ONNX bytes of an nsfwjs model (Keras layers or tfjs graph), cut after `outputs`. */
export async function buildNsfwjsGraph(module: string, exportKey: string, outputs: string[]): Promise<Uint8Array> {
  const { json, weights } = await loadNsfwjsModel(module, exportKey);
  const topology = json.modelTopology;
  const r =
    json.format === 'graph-model'
      ? convertTfjsGraph(topology as TfGraphTopology, weights, { outputs })
      : convertKerasLayers(topology as KerasTopology, weights, { outputs });
  return r.bytes;
}

for (const b of BACKBONES) {
  const spec: BackboneSpec = { id: b.id, layers: b.layers, mean: [0, 0, 0], std: [1, 1, 1], strides: [8, 16] };
  registerBackbone({
    spec,
    description: b.description,
    build: () => buildNsfwjsGraph(b.module, b.exportKey, b.layers),
    cacheName: () => `nsfwjs-${b.id}-${CONVERTER_VERSION}-${sha256(b.layers.join('|')).slice(0, 8)}.onnx`,
  });
}

/** An nsfwjs backbone tapped at other layers (for layer studies, e.g. bench/studies/accuracy.ts); cached like the registered ones. */
export async function nsfwjsWithLayers(id: string, layers: [string, string]): Promise<{ spec: BackboneSpec; path: string; hash: string }> {
  const b = BACKBONES.find((x) => x.id === id);
  if (!b) throw new Error(`not an nsfwjs backbone: ${id}`);
  const file = await cached(`nsfwjs-${b.id}-${CONVERTER_VERSION}-${sha256(layers.join('|')).slice(0, 8)}.onnx`, () =>
    buildNsfwjsGraph(b.module, b.exportKey, layers),
  );
  return { spec: { id: b.id, layers, mean: [0, 0, 0], std: [1, 1, 1], strides: [8, 16] }, path: file.path, hash: file.hash };
}
