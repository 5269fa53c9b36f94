// `patchcore web`: the static site. esbuild bundles the page and the pipeline worker from the
// compiled library (dist/), swapping Node's I/O for the browser adapters in shims/ and
// adapters/; ONNX Runtime's WASM files and the backbone graph are copied next to them.
import { DEFAULT_PRESET, PRESETS, type Preset } from '../model/config.js';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinModules, createRequire } from 'node:module';
import * as esbuild from 'esbuild';
import { graphBytes, type Backbone } from '../backbone/backbone.js';
import { writeFileAtomic } from '../util/atomic.js';
import { INDEX_HTML } from './page/html.js';
import { MAX_BANK_ROWS, MAX_TRAIN_IMAGES, PAGE_PRESET, type SiteManifest } from './protocol.js';

const here = path.dirname(fileURLToPath(import.meta.url)); // dist/src/web
const require = createRequire(import.meta.url);

/** Node module -> browser stand-in (a file under shims/). */
const SHIMS: Record<string, string> = {
  fs: 'memfs',
  'fs/promises': 'memfs',
  path: 'path',
  os: 'os',
  crypto: 'crypto',
  'onnxruntime-node': 'ort',
  sharp: 'unavailable',
  '@techstark/opencv-js': 'unavailable',
  worker_threads: 'unavailable',
  zlib: 'unavailable',
  module: 'unavailable',
  url: 'unavailable',
  util: 'unavailable',
};

export const browserAdapters: esbuild.Plugin = {
  name: 'patchcore-browser-adapters',
  setup(b) {
    b.onResolve({ filter: /^(node:)?[@a-z][\w./-]*$/ }, (a) => {
      const name = a.path.replace(/^node:/, '');
      if (SHIMS[name]) return { path: path.join(here, 'shims', `${SHIMS[name]}.js`) };
      // any other Node built-in a core module may import later: present (as CommonJS, so any
      // named import binds), but throws if called
      return builtinModules.includes(name) ? { path: name, namespace: 'node-builtin' } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (a) => ({
      contents: `const fail = () => { throw new Error('node:${a.path} is not available in the browser page'); };
module.exports = new Proxy({}, { get: (_t, key) => (key === '__esModule' || key === 'then' ? undefined : fail) });`,
      loader: 'js',
    }));
    // decoding and resizing: sharp in Node, the browser's decoder in the page
    b.onResolve({ filter: /(^|\/)load\.js$/ }, (a) => {
      const target = path.resolve(a.resolveDir, a.path);
      return target === path.join(here, '..', 'image', 'load.js') ? { path: path.join(here, 'adapters', 'load.js') } : undefined;
    });
  },
};

/** ONNX Runtime Web's WASM builds: the plain one, and the one its WebGPU build runs (fetched only on WebGPU). */
const ORT_FILES = ['ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.asyncify.wasm', 'ort-wasm-simd-threaded.asyncify.mjs'];

export interface SiteOptions {
  out: string;
  backbone: Backbone;
  /** Minify the bundles (default true). */
  minify?: boolean;
}

/** Write the site into `out`; returns the files written (relative paths) with their sizes. */
export async function buildSite(o: SiteOptions): Promise<{ file: string; bytes: number }[]> {
  const result = await esbuild.build({
    entryPoints: { main: path.join(here, 'page', 'main.js'), worker: path.join(here, 'worker.js') },
    outdir: o.out,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'chrome110',
    minify: o.minify ?? true,
    conditions: ['onnxruntime-web-use-extern-wasm'],
    inject: [path.join(here, 'shims', 'process.js')],
    plugins: [browserAdapters],
    logLevel: 'silent',
    write: false,
  });
  if (result.errors.length) throw new Error(`bundling failed: ${result.errors[0].text}`);
  // every file by temp file + rename, so a failed build never leaves a half-written page
  for (const f of result.outputFiles) await writeFileAtomic(f.path, f.contents);
  const ortDir = path.dirname(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));
  for (const f of ORT_FILES) await writeFileAtomic(path.join(o.out, 'ort', f), await fs.readFile(path.join(ortDir, f)));
  const graph = await graphBytes(o.backbone);
  const file = `backbone-${o.backbone.hash.slice(0, 12)}.onnx`;
  await writeFileAtomic(path.join(o.out, file), graph);
  const manifest: SiteManifest = {
    backbone: { id: o.backbone.spec.id, hash: o.backbone.hash, file, bytes: graph.byteLength, spec: o.backbone.spec },
    // the page fits PAGE_PRESET's extraction (fp32, 224 crop): int8 calibration and whole images at
    // 320–352 px are not built for WASM yet, and a tab's memory bounds the patches per image
    preprocess: { resize: PRESETS[PAGE_PRESET].preprocess.resize, crop: PRESETS[PAGE_PRESET].preprocess.crop as number },
    preset: { name: PAGE_PRESET, note: presetNote(PRESETS[PAGE_PRESET], PRESETS[DEFAULT_PRESET]) },
    maxTrainImages: MAX_TRAIN_IMAGES,
    maxBankRows: MAX_BANK_ROWS,
  };
  await writeFileAtomic(path.join(o.out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  await writeFileAtomic(path.join(o.out, 'index.html'), INDEX_HTML);
  const files = ['index.html', 'main.js', 'worker.js', 'manifest.json', file, ...ORT_FILES.map((f) => `ort/${f}`)];
  return Promise.all(files.map(async (f) => ({ file: f, bytes: (await fs.stat(path.join(o.out, f))).size })));
}

/** What the page says of its settings against the CLI's default preset. */
function presetNote(page: Preset, cli: Preset): string {
  const extraction = (p: Preset) =>
    `${p.precision}, resize ${p.preprocess.resize}, ${p.preprocess.crop === 'none' ? 'whole image' : `centre crop ${p.preprocess.crop}`}`;
  return `Fits as preset ${PAGE_PRESET} (${extraction(page)}), not the CLI's default ${DEFAULT_PRESET} (${extraction(cli)}): the page does not calibrate int8 yet.`;
}
