// Load a tfjs model bundled by nsfwjs (model JSON + base64 weight shards) without tfjs itself.
// Shards concatenated in manifest order hold every weight back to back; nsfwjs ships them
// uint8-quantised, value = q·scale + min (tfjs io/dequantize).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { KerasTopology, TfGraphTopology } from './topology.js';

const require = createRequire(import.meta.url);

export interface WeightTensor {
  shape: number[];
  data: Float32Array;
}

interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { min?: number; scale?: number; dtype: string };
}

export interface TfjsModel {
  /** The model JSON: modelTopology (Keras layers or TF graph), format, weightsManifest. */
  json: { modelTopology: KerasTopology | TfGraphTopology; format?: string; weightsManifest: { paths: string[]; weights: ManifestEntry[] }[] };
  weights: Map<string, WeightTensor>;
}

interface NsfwjsModelDef {
  modelJson(): Promise<{ default?: unknown }>;
  weightBundles: Array<() => Promise<{ default?: unknown }>>;
}

/** `module` e.g. 'nsfwjs/models/inception_v3', `key` its export, e.g. 'InceptionV3Model'. */
export async function loadNsfwjsModel(module: string, key: string): Promise<TfjsModel> {
  const def = (require(module) as Record<string, NsfwjsModelDef>)[key];
  if (!def) throw new Error(`${module} has no export ${key}`);
  const jsonMod = (await def.modelJson()) as { default?: TfjsModel['json'] };
  const json = (jsonMod.default ?? jsonMod) as TfjsModel['json'];
  // Shard files: dist/models/<name>/<path>.min.js next to dist/cjs/models/<name>.js.
  const dir = path.resolve(path.dirname(require.resolve(module)), '../../models', path.basename(module));
  const paths: string[] = json.weightsManifest.flatMap((g: { paths: string[] }) => g.paths);
  if (paths.length !== def.weightBundles.length) throw new Error(`${module}: ${paths.length} shard paths, ${def.weightBundles.length} bundles`);
  const shards: Buffer[] = [];
  for (let i = 0; i < paths.length; i++) {
    const b64 = (await readShardLiteral(path.join(dir, `${paths[i]}.min.js`))) ?? (await evaluateShard(def.weightBundles[i]));
    shards.push(Buffer.from(b64, 'base64'));
  }
  return {
    json,
    weights: decodeWeights(
      json.weightsManifest.flatMap((g: { weights: ManifestEntry[] }) => g.weights),
      Buffer.concat(shards),
    ),
  };
}

/**
 * The base64 literal of a shard file (a browserify wrapper around `exports="…"`), read as text:
 * evaluating the 5.6 MB module takes seconds, scanning it milliseconds. Null if the layout differs.
 */
async function readShardLiteral(file: string): Promise<string | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return null;
  }
  const m = /exports\s*=\s*"([A-Za-z0-9+/=]+)"/.exec(text);
  return m ? m[1] : null;
}

async function evaluateShard(load: () => Promise<{ default?: unknown }>): Promise<string> {
  const m: unknown = await load();
  const b64 = typeof m === 'string' ? m : (m as { default?: unknown }).default;
  if (typeof b64 !== 'string') throw new Error('weight bundle is not a base64 string');
  return b64;
}

function decodeWeights(entries: ManifestEntry[], bytes: Uint8Array): Map<string, WeightTensor> {
  const out = new Map<string, WeightTensor>();
  let off = 0;
  for (const e of entries) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const q = e.quantization;
    if (q && q.dtype === 'uint8' && e.dtype === 'float32') {
      const scale = q.scale ?? 1;
      const min = q.min ?? 0;
      for (let i = 0; i < n; i++) data[i] = bytes[off + i] * scale + min;
      off += n;
    } else if (!q && e.dtype === 'float32') {
      data.set(new Float32Array(bytes.buffer.slice(bytes.byteOffset + off, bytes.byteOffset + off + 4 * n)));
      off += 4 * n;
    } else {
      throw new Error(`weight ${e.name}: unsupported dtype ${e.dtype}/${q?.dtype}`);
    }
    out.set(e.name, { shape: e.shape, data });
  }
  if (off !== bytes.length) throw new Error(`weights: manifest covers ${off} bytes, shards hold ${bytes.length}`);
  return out;
}
