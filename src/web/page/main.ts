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
/** Per-card failure: a part that cannot be scored shows its error in its own card. */
const failing = new Map<number, (msg: string) => void>();
let onFitted: ((m: ModelSummary) => void) | undefined;
let onError: ((msg: string) => void) | undefined;
let ready: (m: SiteManifest) => void;
let backend = 'wasm';
const manifest = new Promise<SiteManifest>((r) => (ready = r));

function showError(msg: string): void {
  $('error').textContent = msg;
  onError?.(msg);
}

/** A request that succeeds clears the error of the one before (a retry that worked). */
function clearError(): void {
  $('error').textContent = '';
}

// ---- progress: a stage in words from the first moment, never an empty bar ----

const STAGE_WORDS: Record<string, string> = {
  features: 'reading the good images',
  coreset: 'choosing the memory bank',
  radius: 'measuring the bank',
};

/** Before the first progress message: an indeterminate bar with what is happening. */
function progressStarting(text: string): void {
  const bar = $<HTMLProgressElement>('progress');
  bar.removeAttribute('value'); // indeterminate: moving, not empty
  stage = '';
  $('eta').textContent = text;
}

// progress bar with a time estimate per stage (rate so far within the stage)
let stage = '',
  stageStart = 0;
function progress(s: string, done: number, total: number): void {
  const now = performance.now();
  if (s !== stage) (stage = s), (stageStart = now);
  const bar = $<HTMLProgressElement>('progress');
  bar.max = Math.max(1, total);
  if (done > 0 || total === 0) bar.value = done;
  else bar.removeAttribute('value'); // a stage that has just begun: moving, not empty
  const left = done > 0 ? (((now - stageStart) / done) * (total - done)) / 1000 : NaN;
  $('eta').textContent = `${STAGE_WORDS[s] ?? s} ${done}/${total}${Number.isFinite(left) ? ` · about ${Math.ceil(left)} s left` : ''}`;
}

worker.onmessage = (ev: MessageEvent<Reply>) => {
  const r = ev.data;
  if (r.type === 'ready') {
    backend = r.backend;
    const runtime = r.backend === 'webgpu' ? 'WebGPU' : `WASM, ${r.ortThreads} thread${r.ortThreads === 1 ? '' : 's'}`;
    $('limits').textContent =
      `Backbone ${r.manifest.backbone.id} (ONNX Runtime ${runtime}). ` +
      `At most ${r.manifest.maxTrainImages} training images (all their patch features stay in this tab's memory) and a bank of ${r.manifest.maxBankRows} patches. ${r.manifest.preset.note}`;
    ready(r.manifest);
    showSettings(r.manifest);
    updateButtons();
  } else if (r.type === 'progress') progress(r.stage, r.done, r.total);
  else if (r.type === 'fitted') {
    clearError();
    const bar = $<HTMLProgressElement>('progress');
    bar.max = 1;
    bar.value = 1;
    $('eta').textContent = `done in ${(r.ms / 1000).toFixed(1)} s`;
    document.body.dataset.fitMs = String(r.ms);
    showModel(r.model);
    onFitted?.(r.model);
  } else if (r.type === 'result') {
    clearError();
    waiting.get(r.id)?.(r);
  } else if (r.type === 'zip') {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([r.bytes as BlobPart], { type: 'application/zip' }));
    a.download = r.name;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  } else if (r.type === 'error') {
    $<HTMLButtonElement>('fit').disabled = trainFiles.length === 0;
    const card = r.id !== undefined ? failing.get(r.id) : undefined;
    if (r.id !== undefined) waiting.delete(r.id), failing.delete(r.id);
    if (card) card(r.message);
    else {
      if ($<HTMLProgressElement>('progress').getAttribute('value') === null) $('eta').textContent = 'stopped';
      showError(r.message);
    }
  }
};
worker.onerror = (e) => showError(`the pipeline worker stopped: ${e.message || 'out of memory?'} — reload the page`);

function showModel(m: ModelSummary): void {
  const c = m.config;
  $('model').textContent =
    `${m.source}: backbone ${c.backbone.id}, bank ${c.bank.size} × ${c.bank.dim} from ${c.coreset.trainPatches} patches, threshold ${c.threshold.toFixed(4)} (${describeThreshold(c.thresholdInfo)})`;
  showFittedSettings(c);
  showThresholdWarning(c.thresholdInfo);
  scale = c.normalization.scale;
  setThreshold(c.threshold, Math.max(c.threshold * 2, c.trainScores.max * 1.5));
  $<HTMLInputElement>('test-files').disabled = false;
  $<HTMLButtonElement>('download').disabled = false;
  $<HTMLButtonElement>('fit').disabled = trainFiles.length === 0;
}

/** The threshold in plain words: what it promises, and from how many images. */
function describeThreshold(t: ModelSummary['config']['thresholdInfo']): string {
  if (t.method === 'conformal') {
    const rate = t.promisedFpr ?? t.targetFpr;
    const per100 = rate !== undefined ? `about ${+(100 * rate).toFixed(1)} in 100 good parts are flagged` : 'few good parts are flagged';
    return `set so that ${per100}, from the scores of ${t.n} good images`;
  }
  return t.method === 'manual' ? `set by hand${t.source ? ` (${t.source})` : ''}` : `${t.method} on ${t.n} images`;
}

// ---- what the page fits with, and what its threshold can promise ----

function cropWords(p: { resize: number; crop: number | 'none' }): string {
  return p.crop === 'none'
    ? `resized to ${p.resize} px on the shorter side, whole image inspected`
    : `resized to ${p.resize} px on the shorter side, then centre-cropped to ${p.crop}×${p.crop} px (outside the crop is not inspected)`;
}

/** Before a fit: the settings the page will fit with. */
function showSettings(m: SiteManifest): void {
  $('settings').textContent =
    `Fits with: backbone ${m.backbone.id}; images ${cropWords(m.preprocess)}; coreset ratio as set below; threshold from the good images' own scores.`;
}

/** After a fit or an open: the settings the model was actually fitted with. */
function showFittedSettings(c: ModelSummary['config']): void {
  const fpr = c.thresholdInfo.targetFpr !== undefined ? `; false-alarm target ${c.thresholdInfo.targetFpr}` : '';
  $('settings').textContent =
    `Fitted with: backbone ${c.backbone.id}; images ${cropWords(c.preprocess)}; coreset ratio ${c.coreset.ratio} (${c.bank.size} of ${c.coreset.trainPatches} patches); scoring ${c.scoring.kind ?? 'nearest'}${fpr}.`;
}

/** model.json's own warning when there are too few images for the rate asked, said plainly. */
function showThresholdWarning(t: ModelSummary['config']['thresholdInfo']): void {
  const w = $('threshold-warning');
  w.hidden = !t.warning;
  w.textContent = t.warning ? `Too few good images for the false-alarm rate asked: ${t.warning}. Add good images and fit again for the promised rate.` : '';
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
  const fail = score > threshold; // as PatchCore.predict: score > threshold
  card.querySelector('.normalized')!.textContent = normalizeScore(score, threshold, scale).toFixed(2);
  card.dataset.state = fail ? 'fail' : 'pass';
  const el = card.querySelector('.verdict')!;
  el.textContent = fail ? 'FAIL' : 'PASS';
  el.className = `verdict big ${fail ? 'fail' : 'pass'}`;
}

// ---- a card: the station's layout (large verdict, regions outlined, not-inspected band) ----

const CARD_HTML =
  '<div class="verdict big">…</div><div class="name"></div><div class="heat-wrap"><canvas></canvas><div class="boxes"></div></div>' +
  '<p class="scoreline">score <span class="score">…</span> · normalised <span class="normalized" title="0.5 at the threshold, near 0 for a typical good part, near 1 far above"></span> · <span class="regions"></span> · <span class="ms"></span></p>';

function cardError(card: HTMLElement, name: string, message: string): void {
  card.dataset.state = 'error';
  card.classList.add('error');
  card.querySelector('.verdict')!.textContent = 'ERROR';
  card.querySelector('.verdict')!.className = 'verdict big error';
  card.querySelector('.heat-wrap')?.remove();
  card.querySelector('.scoreline')!.textContent = `${name}: ${message}`;
}

function drawBoxes(card: HTMLElement, res: PredictReply): void {
  const boxes = card.querySelector('.boxes')!;
  const place = (el: HTMLElement, b: { x: number; y: number; width: number; height: number }) => {
    el.style.left = `${(100 * b.x) / res.width}%`;
    el.style.top = `${(100 * b.y) / res.height}%`;
    el.style.width = `${(100 * b.width) / res.width}%`;
    el.style.height = `${(100 * b.height) / res.height}%`;
  };
  for (const g of res.regions ?? []) {
    const el = document.createElement('div');
    el.className = 'region';
    place(el, g.box);
    boxes.append(el);
  }
  const ins = res.inspected;
  if (ins.width < res.width || ins.height < res.height) {
    const el = document.createElement('div');
    el.className = 'inspected';
    el.title = 'outside this frame: not inspected';
    place(el, ins);
    boxes.append(el);
    const note = document.createElement('span');
    note.className = 'not-inspected';
    note.textContent = 'grey: not inspected';
    card.querySelector('.heat-wrap')!.append(note);
  }
  const n = res.regions?.length ?? 0;
  card.querySelector('.regions')!.textContent = res.regions === null ? 'no pixel threshold' : `${n} region${n === 1 ? '' : 's'}`;
}

function fit(r: Omit<Extract<Request, { type: 'fit' }>, 'type' | 'ratio'>): Promise<ModelSummary> {
  $('error').textContent = '';
  $<HTMLButtonElement>('fit').disabled = true;
  progressStarting(`starting: loading the backbone and ${r.files ? r.files.length : (r.synthetic?.seeds.length ?? 0)} good images…`);
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
  card.innerHTML = CARD_HTML;
  const name = r.file ? r.file.webkitRelativePath || r.file.name : r.synthetic!.name;
  card.querySelector('.name')!.textContent = name;
  (card.querySelector('.name') as HTMLElement).title = name;
  $('cards').prepend(card);
  return new Promise((resolve, reject) => {
    failing.set(id, (msg) => {
      cardError(card, name, msg);
      reject(new Error(msg));
    });
    waiting.set(id, (res) => {
      waiting.delete(id);
      failing.delete(id);
      (card.querySelector('.heat-wrap') as HTMLElement).style.setProperty('--ar', `${res.width} / ${res.height}`);
      const canvas = card.querySelector('canvas')!;
      canvas.width = res.width;
      canvas.height = res.height;
      canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(res.rgba), res.width, res.height), 0, 0);
      card.dataset.score = String(res.score);
      card.dataset.name = res.name;
      card.dataset.ms = String(res.ms);
      card.querySelector('.score')!.textContent = res.score.toFixed(4);
      card.querySelector('.ms')!.textContent = `${res.ms.toFixed(0)} ms`;
      drawBoxes(card, res);
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
  z.addEventListener('dragover', (e) => {
    e.preventDefault();
    z.classList.add('over');
  });
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
  const a = auroc(
    scores,
    tests.map((t) => (t.kind === 'good' ? 0 : 1)),
  );
  if (a.value === null) throw new Error(`AUROC undefined (${a.reason})`);
  if (a.value < 0.9) throw new Error(`AUROC ${a.value.toFixed(4)} < 0.9`);
  document.title = `selftest: ok auroc=${a.value.toFixed(4)} images=${plan.length} seconds=${((performance.now() - t0) / 1000).toFixed(1)} backend=${backend}`;
}

// ?backend=wasm keeps ONNX Runtime on WASM where the browser offers WebGPU
send({ type: 'init', backend: new URLSearchParams(location.search).get('backend') === 'wasm' ? 'wasm' : 'auto' });
if (new URLSearchParams(location.search).has('selftest'))
  selftest().catch((e) => (document.title = `selftest: FAIL ${e instanceof Error ? e.message : String(e)}`));
