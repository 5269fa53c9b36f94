// Backbone ids -> how to build them. Each entry owns its ONNX build; the cache stores the result.
import type { BackboneSpec } from '../types.js';
import type { Device } from '../onnx/session.js';
import { onnxBackbone, type Backbone } from './backbone.js';
import { cached } from './cache.js';
import { UserError } from '../util/errors.js';

export interface BackboneEntry {
  spec: BackboneSpec;
  description: string;
  /** Build the ONNX graph bytes (may read weights from cache / --weights). */
  build(opts: BackboneOptions): Promise<Uint8Array>;
  /** Cache file name; changes whenever the build changes. */
  cacheName(opts: BackboneOptions): string;
}

export interface BackboneOptions {
  device?: Device;
  weights?: string;
}

const entries = new Map<string, BackboneEntry>();

export function registerBackbone(entry: BackboneEntry): void {
  entries.set(entry.spec.id, entry);
}

export function backboneIds(): string[] {
  return [...entries.keys()];
}

export function backboneEntry(id: string): BackboneEntry {
  const e = entries.get(id);
  if (!e) throw new UserError(`unknown backbone '${id}' (known: ${backboneIds().join(', ')}, or a path to an .onnx file)`);
  return e;
}

export async function loadBackbone(id: string, opts: BackboneOptions = {}): Promise<Backbone> {
  const entry = backboneEntry(id);
  const file = await cached(entry.cacheName(opts), () => entry.build(opts));
  return onnxBackbone(entry.spec, file.path, file.hash, opts.device);
}
