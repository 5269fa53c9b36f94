// The page's pipeline host (a Web Worker, so fitting, the coreset and the NN search never block
// the page): the same PatchCore, Extractor, FeatureStore, coreset and scoring modules as the CLI,
// with Node's I/O swapped for browser adapters by the bundler (see build.ts).
import { zipSync, unzipSync } from 'fflate';
import { PatchCore } from '../model/patchcore.js';
import { resolveFitOptions } from '../settings/presets.js';
import { onnxBackbone, type Backbone } from '../backbone/backbone.js';
import { ort } from '../onnx/session.js';
import { useWebGpu } from './shims/ort.js';
import { syntheticSample, type DefectKind } from '../data/synthetic.js';
import { blend, colourScale, heatScale } from '../report/overlay.js';
import { regionsOf } from '../model/regions.js';
import { inspectedBox } from '../image/preprocess.js';
import { registerImage, forgetImages, loadImage } from './adapters/load.js';
import { readBytes, writeFileSync, rmSync } from './shims/memfs.js';
import { MAX_BANK_ROWS, MAX_TRAIN_IMAGES, PAGE_PRESET, type Reply, type Request, type SiteManifest } from './protocol.js';
import { describe } from './failure.js';

const base = new URL('./', self.location.href);
let manifest: SiteManifest;
let backbone: Backbone;
let model: PatchCore | undefined;

/** Free the sessions of the model about to be replaced (its aggregation's; the shared backbone restarts on its next run). */
async function retire(): Promise<void> {
  await model?.extractor.release();
}
let saved = 0;

const post = (r: Reply, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(r, transfer);

/** The backbone runs on WebGPU when the browser offers an adapter (and the page did not ask for WASM). */
async function webGpuAdapter(): Promise<boolean> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  try {
    return !!gpu && !!(await gpu.requestAdapter());
  } catch {
    return false;
  }
}

async function init(r: Extract<Request, { type: 'init' }>): Promise<void> {
  const ortEnv = ort.env;
  ortEnv.wasm.wasmPaths = new URL('ort/', base).href;
  // WASM threads need a cross-origin-isolated page (COOP/COEP headers, as 'serve --studio' sends);
  // elsewhere ONNX Runtime runs on one thread. ORT's own default would take half the cores.
  ortEnv.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
  const backend = r.backend === 'auto' && (await webGpuAdapter()) ? 'webgpu' : 'wasm';
  if (backend === 'webgpu') await useWebGpu();
  manifest = await (await fetch(new URL('manifest.json', base))).json();
  const graph = new Uint8Array(await (await fetch(new URL(manifest.backbone.file, base))).arrayBuffer());
  if (graph.byteLength !== manifest.backbone.bytes) throw new Error(`backbone graph is ${graph.byteLength} bytes, expected ${manifest.backbone.bytes}`);
  // the NN search stays on WASM: its TopK has no WebGPU kernel, and the bank is small beside the backbone
  backbone = await onnxBackbone(manifest.backbone.spec, graph, manifest.backbone.hash, backend === 'webgpu' ? 'webgpu' : 'cpu');
  post({ type: 'ready', manifest, ortThreads: ortEnv.wasm.numThreads ?? 1, backend });
}

async function fit(r: Extract<Request, { type: 'fit' }>): Promise<void> {
  const t0 = performance.now();
  forgetImages();
  const names: string[] = [];
  if (r.synthetic) {
    for (const seed of r.synthetic.seeds) registerImage(`good-${seed}`, syntheticSample(seed, 'good').image), names.push(`good-${seed}`);
  } else {
    // keyed by position: a folder's subfolders may repeat file names
    for (const [i, f] of (r.files ?? []).entries()) registerImage(`${i}/${f.name}`, f), names.push(`${i}/${f.name}`);
  }
  if (names.length < 1) throw new Error('no training images');
  if (names.length > MAX_TRAIN_IMAGES) throw new Error(`${names.length} training images: the page accepts at most ${MAX_TRAIN_IMAGES} (use the CLI for more)`);
  // the page's settings as the library resolves them (the same checks and messages as the CLI's)
  const settings = resolveFitOptions(PAGE_PRESET, { ratio: r.ratio, preprocess: manifest.preprocess });
  const { crop } = manifest.preprocess,
    stride = manifest.backbone.spec.strides[0];
  const bankRows = Math.ceil(names.length * Math.ceil(crop / stride) ** 2 * settings.ratio);
  if (bankRows > MAX_BANK_ROWS)
    throw new Error(
      `a bank of ${bankRows} patches (${names.length} images × coreset ratio ${r.ratio}) exceeds the page's ${MAX_BANK_ROWS}: lower the coreset ratio`,
    );
  try {
    const fitted = await PatchCore.fit(names, backbone, {
      ...settings,
      batchSize: 8, // as the CLI
      progress: (stage, done, total) => post({ type: 'progress', stage, done, total }),
    });
    await retire();
    model = fitted;
  } finally {
    forgetImages();
  }
  post({ type: 'fitted', model: { config: model.config, source: `fitted in the page on ${names.length} images` }, ms: performance.now() - t0 });
}

async function predict(r: Extract<Request, { type: 'predict' }>): Promise<void> {
  if (!model) throw new Error('no model: fit one or open one first');
  const t0 = performance.now();
  const name = r.file?.name ?? r.synthetic!.name;
  const img = r.file ? await loadFile(r.file) : syntheticSample(r.synthetic!.seed, r.synthetic!.kind as DefectKind).image;
  const res = await model.predict(img);
  const ms = performance.now() - t0;
  // one colour scale for every part, anchored at the pixel threshold, as the station's
  const fixed = model.pixelThreshold !== null ? heatScale(model.pixelThreshold) : null;
  const [lo, hi] = fixed ? [fixed.vmin, fixed.vmax] : colourScale(res.mapOriginal, res.threshold);
  const over = blend(img, res.mapOriginal, lo, hi);
  const regions = model.pixelThreshold !== null ? regionsOf(res.mapOriginal, model.pixelThreshold).regions : null;
  const rgba = new Uint8ClampedArray(over.width * over.height * 4);
  for (let i = 0; i < over.width * over.height; i++) {
    rgba.set(over.data.subarray(3 * i, 3 * i + 3), 4 * i);
    rgba[4 * i + 3] = 255;
  }
  post(
    {
      type: 'result',
      id: r.id,
      name,
      score: res.score,
      threshold: res.threshold,
      width: over.width,
      height: over.height,
      rgba,
      ms,
      regions,
      inspected: inspectedBox(res.geometry),
    },
    [rgba.buffer],
  );
}

async function loadFile(f: File) {
  registerImage(f.name, f);
  try {
    return await loadImage(f.name);
  } finally {
    forgetImages();
  }
}

/** The model as `patchcore fit` writes it (model.json + bank-<hash>.bin), zipped; `predict --model x.zip` reads it. */
async function download(): Promise<void> {
  if (!model) throw new Error('no model to download');
  const dir = `/models/${++saved}`;
  await model.save(dir);
  const bank = model.config.bank.file;
  const bytes = zipSync({ 'model.json': readBytes(`${dir}/model.json`)!, [bank]: readBytes(`${dir}/${bank}`)! }, { level: 0 });
  rmSync(dir);
  post({ type: 'zip', name: `patchcore-model-${model.config.bank.sha256.slice(0, 8)}.zip`, bytes }, [bytes.buffer]);
}

/** A model from the CLI: its .zip, or its two files (model.json and bank-<hash>.bin). */
async function open(files: File[]): Promise<void> {
  const t0 = performance.now();
  const dir = `/models/${++saved}`;
  const entries: Record<string, Uint8Array> = {};
  for (const f of files) {
    const bytes = new Uint8Array(await f.arrayBuffer());
    if (/\.zip$/i.test(f.name)) Object.assign(entries, unzipSync(bytes));
    else entries[f.name] = bytes;
  }
  for (const [name, bytes] of Object.entries(entries)) writeFileSync(`${dir}/${name.split('/').pop()}`, bytes);
  try {
    const m = await PatchCore.load(dir, backbone);
    if (m.config.background) throw new Error('this model uses background removal (--background), which the page does not run; score it with the CLI');
    if (m.config.backbone.int8) throw new Error('this model uses an int8 backbone, which the page does not run; score it with the CLI');
    await retire();
    model = m;
  } finally {
    rmSync(dir);
  }
  post({ type: 'fitted', model: { config: model.config, source: `opened ${files.map((f) => f.name).join(', ')}` }, ms: performance.now() - t0 });
}

async function handle(r: Request): Promise<void> {
  try {
    if (r.type === 'init') await init(r);
    else if (r.type === 'fit') await fit(r);
    else if (r.type === 'predict') await predict(r);
    else if (r.type === 'download') await download();
    else if (r.type === 'open') await open(r.files);
  } catch (e) {
    post({ type: 'error', id: r.type === 'predict' ? r.id : undefined, message: describe(e) });
  }
}

// one request at a time, in order: a fit finishes before the predictions sent after it
let queue = Promise.resolve();
self.onmessage = (ev: MessageEvent<Request>) => {
  queue = queue.then(() => handle(ev.data));
};
