// The page: picks files, talks to the pipeline worker, draws overlays, judges at the threshold.
// `?selftest` fits and scores the built-in synthetic set and reports in document.title.
import { syntheticPlan } from '../../data/synthetic.js';
import { auroc } from '../../metrics/image.js';
import { normalizeScore } from '../../scoring/decision.js';
import type { ModelSummary, PredictReply, Reply, Request, SiteManifest } from '../protocol.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const worker = new Worker(new URL('worker.js', import.meta.url), { type: 'module' });
const send = (r: Request) => worker.postMessage(r);

let trainFiles: File[] = [];
let threshold = NaN;
let scale = 1; // the model's normalization scale
let nextId = 0;
const waiting = new Map<number, (r: PredictReply) => void>();
let onFitted: ((m: ModelSummary) => void) | undefined;
let onError: ((msg: string) => void) | undefined;
let ready: (m: SiteManifest) => void;
let backend = 'wasm';
const manifest = new Promise<SiteManifest>((r) => (ready = r));

function showError(msg: string): void {
  $('error').textContent = msg;
  onError?.(msg);
}

// progress bar with a time estimate per stage (rate so far within the stage)
let stage = '', stageStart = 0;
function progress(s: string, done: number, total: number): void {
  const now = performance.now();
  if (s !== stage) (stage = s), (stageStart = now);
  const bar = $<HTMLProgressElement>('progress');
  bar.max = total;
  bar.value = done;
  const left = done > 0 ? ((now - stageStart) / done) * (total - done) / 1000 : NaN;
  $('eta').textContent = `${s} ${done}/${total}${Number.isFinite(left) ? ` · about ${Math.ceil(left)} s left` : ''}`;
}

worker.onmessage = (ev: MessageEvent<Reply>) => {
  const r = ev.data;
  if (r.type === 'ready') {
    backend = r.backend;
    const runtime = r.backend === 'webgpu' ? 'WebGPU' : `WASM, ${r.ortThreads} thread${r.ortThreads === 1 ? '' : 's'}`;
    $('limits').textContent = `Backbone ${r.manifest.backbone.id} (ONNX Runtime ${runtime}). ` +
      `At most ${r.manifest.maxTrainImages} training images (all their patch features stay in this tab's memory) and a bank of ${r.manifest.maxBankRows} patches. ${r.manifest.preset.note}`;
    ready(r.manifest);
    updateButtons();
  } else if (r.type === 'progress') progress(r.stage, r.done, r.total);
  else if (r.type === 'fitted') {
    $('eta').textContent = `done in ${(r.ms / 1000).toFixed(1)} s`;
    document.body.dataset.fitMs = String(r.ms);
    showModel(r.model);
    onFitted?.(r.model);
  } else if (r.type === 'result') waiting.get(r.id)?.(r);
  else if (r.type === 'zip') {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([r.bytes as BlobPart], { type: 'application/zip' }));
    a.download = r.name;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  } else if (r.type === 'error') {
    if (r.id !== undefined) waiting.delete(r.id);
    $<HTMLButtonElement>('fit').disabled = trainFiles.length === 0;
    showError(r.message);
  }
};
worker.onerror = (e) => showError(`the pipeline worker stopped: ${e.message || 'out of memory?'} — reload the page`);

function showModel(m: ModelSummary): void {
  const c = m.config;
  $('model').textContent = `${m.source}: backbone ${c.backbone.id}, bank ${c.bank.size} × ${c.bank.dim} from ${c.coreset.trainPatches} patches, threshold ${c.threshold.toFixed(4)} (${describeThreshold(c.thresholdInfo)})`;
  scale = c.normalization.scale;
  setThreshold(c.threshold, Math.max(c.threshold * 2, c.trainScores.max * 1.5));
  $<HTMLInputElement>('test-files').disabled = false;
  $<HTMLButtonElement>('download').disabled = false;
  $<HTMLButtonElement>('fit').disabled = trainFiles.length === 0;
}

function describeThreshold(t: ModelSummary['config']['thresholdInfo']): string {
  const fpr = t.targetFpr !== undefined ? `, false-alarm rate ${t.targetFpr}` : '';
  return `${t.method} on ${t.n} images${fpr}`;
}

function setThreshold(t: number, max?: number): void {
  threshold = t;
  const s = $<HTMLInputElement>('threshold');
  if (max !== undefined) s.max = String(Math.max(max, t));
  s.disabled = false;
  s.value = String(t);
  $('threshold-value').textContent = t.toFixed(4);
  for (const card of document.querySelectorAll<HTMLElement>('.card[data-ready="1"]')) judge(card);
}

function judge(card: HTMLElement): void {
  const score = Number(card.dataset.score);
  const v = score > threshold ? 'ANOMALOUS' : 'GOOD'; // as PatchCore.predict: score > threshold
  card.querySelector('.normalized')!.textContent = normalizeScore(score, threshold, scale).toFixed(2);
  const el = card.querySelector('.verdict')!;
  el.textContent = v;
  el.className = `verdict ${v}`;
}

function fit(r: Omit<Extract<Request, { type: 'fit' }>, 'type' | 'ratio'>): Promise<ModelSummary> {
  $('error').textContent = '';
  $<HTMLButtonElement>('fit').disabled = true;
  return new Promise((resolve, reject) => {
    onFitted = resolve;
    onError = reject;
    send({ type: 'fit', ratio: Number($<HTMLInputElement>('ratio').value), ...r });
  });
}

function predict(r: Omit<Extract<Request, { type: 'predict' }>, 'type' | 'id'>): Promise<PredictReply> {
  const id = nextId++;
  const card = document.createElement('div');
  card.className = 'card';
  card.innerHTML = '<canvas></canvas><div class="name"></div><div><span class="score">…</span> (<span class="normalized" title="normalized: 0.5 at the threshold"></span>) <span class="verdict"></span> <span class="ms"></span></div>';
  card.querySelector('.name')!.textContent = r.file?.name ?? r.synthetic!.name;
  $('cards').prepend(card);
  return new Promise((resolve, reject) => {
    onError = reject;
    waiting.set(id, (res) => {
      waiting.delete(id);
      const canvas = card.querySelector('canvas')!;
      canvas.width = res.width;
      canvas.height = res.height;
      canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(res.rgba), res.width, res.height), 0, 0);
      card.dataset.score = String(res.score);
      card.dataset.name = res.name;
      card.dataset.ms = String(res.ms);
      card.querySelector('.score')!.textContent = res.score.toFixed(4);
      card.querySelector('.ms')!.textContent = `${res.ms.toFixed(0)} ms`;
      card.dataset.ready = '1';
      judge(card);
      resolve(res);
    });
    send({ type: 'predict', id, ...r });
  });
}

function updateButtons(): void {
  $<HTMLButtonElement>('fit').disabled = trainFiles.length === 0;
}

const IMAGE = /\.(png|jpe?g|bmp|webp|gif)$/i;

/** Files of a drop, folders walked recursively. */
async function dropped(dt: DataTransfer): Promise<File[]> {
  const out: File[] = [];
  const walk = async (e: FileSystemEntry): Promise<void> => {
    if (e.isFile) out.push(await new Promise<File>((res, rej) => (e as FileSystemFileEntry).file(res, rej)));
    else if (e.isDirectory) {
      const reader = (e as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
        if (!batch.length) break;
        for (const b of batch) await walk(b);
      }
    }
  };
  const entries = [...dt.items].map((i) => i.webkitGetAsEntry()).filter((e): e is FileSystemEntry => !!e);
  for (const e of entries) await walk(e);
  return out.filter((f) => IMAGE.test(f.name));
}

function dropZone(id: string, onFiles: (f: File[]) => void): void {
  const z = $(id);
  z.addEventListener('dragover', (e) => { e.preventDefault(); z.classList.add('over'); });
  z.addEventListener('dragleave', () => z.classList.remove('over'));
  z.addEventListener('drop', async (e) => {
    e.preventDefault();
    z.classList.remove('over');
    if (e.dataTransfer) onFiles(await dropped(e.dataTransfer));
  });
}

function setTrain(files: File[]): void {
  trainFiles = files.filter((f) => IMAGE.test(f.name));
  $('eta').textContent = `${trainFiles.length} good images`;
  updateButtons();
}
async function runTests(files: File[]): Promise<void> {
  for (const f of files) await predict({ file: f }).catch(() => undefined);
}

/** The files of an input's change, and the input cleared so that picking the same files again works. */
function picked(e: Event): File[] {
  const input = e.target as HTMLInputElement;
  const files = [...(input.files ?? [])];
  input.value = '';
  return files;
}

dropZone('train-drop', setTrain);
dropZone('test-drop', (f) => void runTests(f));
$<HTMLInputElement>('train-files').onchange = (e) => setTrain(picked(e));
$<HTMLInputElement>('train-folder').onchange = (e) => setTrain(picked(e));
$<HTMLInputElement>('test-files').onchange = (e) => void runTests(picked(e));
$<HTMLButtonElement>('fit').onclick = () => void fit({ files: trainFiles }).catch(() => undefined);
$<HTMLButtonElement>('download').onclick = () => send({ type: 'download' });
$<HTMLInputElement>('open-model').onchange = (e) => {
  const files = picked(e);
  if (files.length) send({ type: 'open', files });
};
$<HTMLInputElement>('threshold').addEventListener('input', (e) => setThreshold(Number((e.target as HTMLInputElement).value)));

/** Fit the synthetic set's good images, score its test images, report the image AUROC in the title. */
async function selftest(): Promise<void> {
  const t0 = performance.now();
  await manifest;
  const plan = syntheticPlan({ train: 10, testGood: 4, testPerDefect: 2 });
  await fit({ synthetic: { seeds: plan.filter((e) => e.split === 'train').map((e) => e.seed) } });
  const tests = plan.filter((e) => e.split === 'test');
  const scores: number[] = [];
  for (const t of tests) scores.push((await predict({ synthetic: { seed: t.seed, kind: t.kind, name: `${t.kind}/${t.name}` } })).score);
  const a = auroc(scores, tests.map((t) => (t.kind === 'good' ? 0 : 1)));
  if (a.value === null) throw new Error(`AUROC undefined (${a.reason})`);
  if (a.value < 0.9) throw new Error(`AUROC ${a.value.toFixed(4)} < 0.9`);
  document.title = `selftest: ok auroc=${a.value.toFixed(4)} images=${plan.length} seconds=${((performance.now() - t0) / 1000).toFixed(1)} backend=${backend}`;
}

// ?backend=wasm keeps ONNX Runtime on WASM where the browser offers WebGPU
send({ type: 'init', backend: new URLSearchParams(location.search).get('backend') === 'wasm' ? 'wasm' : 'auto' });
if (new URLSearchParams(location.search).has('selftest'))
  selftest().catch((e) => (document.title = `selftest: FAIL ${e instanceof Error ? e.message : String(e)}`));
