// Backbone entry point: registers the built-in backbones and resolves a --backbone value.
import './nsfwjs.js';
import './torchvision.js';
import type { Backbone, BackboneRequest } from './backbone.js';
import { loadBackbone, backboneEntry } from './registry.js';
import { findCachedByHash } from './cache.js';
import { onnxBackbone } from './backbone.js';

export { loadBackbone, backboneIds, backboneEntry } from './registry.js';
export type { Backbone, BackboneRequest } from './backbone.js';

/** A registry id, or a path ending in .onnx (any ONNX model with two intermediate tensors named by --layers). */
export async function resolveBackbone(r: BackboneRequest & Record<string, unknown>): Promise<Backbone> {
  if (/\.onnx$/i.test(r.id)) {
    const { loadUserOnnxBackbone } = await import('./user-onnx.js');
    return loadUserOnnxBackbone(r);
  }
  // a saved model's graph may come from a --weights file that is not given again: find it by hash
  const hit = r.hash && !r.weights ? await findCachedByHash(r.hash) : null;
  if (hit) return onnxBackbone(backboneEntry(r.id).spec, hit.path, hit.hash, r.device);
  return loadBackbone(r.id, { device: r.device, weights: r.weights });
}
