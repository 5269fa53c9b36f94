// Inspection page: each file goes to /v1/predict on its own, so each part gets its own result or
// error as it finishes. Verdicts are the server's and never re-judged here; the history is the
// server's record. No dependencies; user text only ever goes into textContent.
import { createFeedback } from './feedback.js';

const $ = (sel) => document.querySelector(sel);
const PARALLEL = 2;
const state = { model: null };

function headers() {
  const t = $('#token').value.trim();
  return t ? { authorization: `Bearer ${t}` } : {};
}
function fmt(v) {
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 1 ? v.toFixed(3) : v.toPrecision(3);
}
function setStatus(text, isError = false) {
  $('#status').textContent = text;
  $('#status').classList.toggle('error', isError);
}

async function api(path, init = {}) {
  const res = await fetch(path, { ...init, headers: { ...headers(), ...(init.headers || {}) } });
  if (res.status === 401) $('#token-box').open = true;
  if (!res.ok) {
    let msg = `${res.status} ${res.statusText}`;
    try {
      msg = (await res.json()).message || msg;
    } catch {}
    const retry = res.headers.get('retry-after');
    throw new Error(retry ? `${msg} (retry in ${retry} s)` : msg);
  }
  return res;
}

function plainThreshold(info) {
  if (info.method === 'conformal') {
    const rate = Math.round(100 * info.promisedFpr);
    return `threshold set so that about ${rate} in 100 good parts are flagged${info.warning ? ` (too few images for the rate asked: ${info.warning})` : ''}`;
  }
  return info.method === 'manual' ? `threshold set by hand (${info.source})` : `threshold from ${info.n} labelled parts`;
}

// ---- model picker: with `serve --models` the parts go to the model chosen here ----

/** The chosen model's name, or undefined for the server's default model. */
function chosenModel() {
  const pick = $('#model-pick');
  return $('#model-pick-box').hidden || !pick.value ? undefined : pick.value;
}

/** Fills the picker and the history filter from /v1/station; keeps what the operator chose. */
function showModelChoice(models) {
  const pick = $('#model-pick');
  const filter = $('#history-model');
  const keep = { pick: pick.value || sessionStorage.getItem('patchcore-model') || '', filter: filter.value };
  pick.replaceChildren();
  for (const m of models) {
    const o = new Option(`${m.name} ${m.version} · threshold ${fmt(m.threshold)}`, m.name);
    o.dataset.version = m.version;
    pick.add(o);
  }
  pick.value = models.some((m) => m.name === keep.pick) ? keep.pick : ((models.find((m) => m.default) ?? models[0])?.name ?? '');
  filter.replaceChildren(new Option('all models', ''), ...models.map((m) => new Option(m.name, m.name)));
  filter.value = models.some((m) => m.name === keep.filter) ? keep.filter : '';
  $('#model-pick-box').hidden = models.length < 2;
  $('#history-model-box').hidden = models.length < 2;
}

function wireModelChoice() {
  $('#model-pick').addEventListener('change', () => {
    sessionStorage.setItem('patchcore-model', $('#model-pick').value);
    loadModel();
  });
  $('#history-model').addEventListener('change', () => loadHistory());
}

async function loadModel() {
  try {
    const m = await (await api('/v1/model')).json();
    const st = await api('/v1/station').then(
      (r) => r.json(),
      () => null,
    );
    if (st?.models) showModelChoice(st.models);
    const v = st?.models?.find((x) => x.name === (chosenModel() ?? st.default_model)) ?? st?.models?.[0];
    const fitted = v ? v.fitted_on : m.config.trainingData?.images;
    $('#model-info').textContent = `${fitted ? `Fitted on ${fitted} good images; ` : ''}${plainThreshold(v?.threshold_info ?? m.thresholdInfo)}.`;
    $('#model-version').textContent = v
      ? `model ${v.name} ${v.version}${v.threshold_changes ? ' (threshold changed)' : ''} · threshold ${fmt(v.threshold)} · id ${v.model_id}`
      : `model ${m.model_id} · threshold ${fmt(m.threshold)}`;
    // never overwrite what the operator is typing
    const field = $('#threshold');
    if (field.value === '' || Number(field.value) === state.model?.threshold) field.value = String(m.threshold);
    state.model = m;
    const drift = st?.drift?.warning;
    $('#drift').hidden = !drift;
    $('#drift').textContent = drift ? `Drift: ${drift}. Good parts may be scoring unlike the training parts.` : '';
  } catch (e) {
    $('#model-info').textContent = 'model info unavailable';
    setStatus(`cannot load model info: ${e.message}`, true);
  }
}

async function loadHistory() {
  const body = $('#history tbody');
  let rows;
  try {
    const model = $('#history-model').value;
    rows = (await (await api(`/v1/results?limit=50${model ? `&model=${encodeURIComponent(model)}` : ''}`)).json()).results;
  } catch (e) {
    body.replaceChildren();
    const tr = body.insertRow();
    tr.insertCell().textContent = `no record: ${e.message}`;
    return;
  }
  body.replaceChildren();
  for (const r of rows) {
    const tr = body.insertRow();
    tr.dataset.id = r.id;
    const cells = [new Date(r.time).toLocaleString(), r.source, r.camera, `${r.model_name} ${r.model_version}`, fmt(r.score), fmt(r.threshold)];
    for (const text of cells) tr.insertCell().textContent = text;
    const v = tr.insertCell();
    v.textContent = r.verdict === 'fail' ? 'FAIL' : 'PASS';
    v.className = `verdict ${r.verdict}`;
  }
}

function newCard(name) {
  const card = $('#card-template').content.firstElementChild.cloneNode(true);
  card.querySelector('.name').textContent = name;
  card.querySelector('.name').title = name;
  card.querySelector('.verdict').textContent = '…';
  $('#results').prepend(card);
  return card;
}

function showError(card, message) {
  card.classList.add('error');
  card.dataset.state = 'error';
  card.querySelector('.verdict').textContent = 'ERROR';
  card.querySelector('.verdict').className = 'verdict big error';
  card.querySelector('.heat-wrap').remove();
  card.querySelector('.scoreline').textContent = message;
}

function showResult(card, r) {
  const fail = r.verdict ? r.verdict === 'fail' : r.anomalous;
  card.dataset.state = fail ? 'fail' : 'pass';
  card.dataset.id = r.id ?? '';
  const v = card.querySelector('.verdict');
  v.textContent = fail ? 'FAIL' : 'PASS';
  v.className = `verdict big ${fail ? 'fail' : 'pass'}`;
  feedback.addButtons(card, r.id);
  const regions = r.regions ?? [];
  card.querySelector('.scoreline').textContent =
    `score ${fmt(r.score)} · normalised ${r.normalized.toFixed(2)} · threshold ${fmt(r.threshold)}${r.model ? ` · ${r.model.name} ${r.model.version}` : ''} · ${regions.length} region${regions.length === 1 ? '' : 's'}${r.min_area ? ` of ${r.min_area} px or more` : ''}`;
  const wrap = card.querySelector('.heat-wrap');
  wrap.style.setProperty('--ar', `${r.image.width} / ${r.image.height}`);
  const boxes = card.querySelector('.boxes');
  const pct = (a, total) => `${(100 * a) / total}%`;
  const place = (el, b) => {
    el.style.left = pct(b.x, r.image.width);
    el.style.top = pct(b.y, r.image.height);
    el.style.width = pct(b.width, r.image.width);
    el.style.height = pct(b.height, r.image.height);
  };
  for (const g of regions) {
    const el = document.createElement('div');
    el.className = 'region';
    place(el, g.box);
    boxes.append(el);
  }
  const ins = r.inspected;
  if (ins && (ins.width < r.image.width || ins.height < r.image.height)) {
    const el = document.createElement('div');
    el.className = 'inspected';
    el.title = 'outside this frame: not inspected';
    place(el, ins);
    boxes.append(el);
    const note = document.createElement('span');
    note.className = 'not-inspected';
    note.textContent = 'grey: not inspected';
    wrap.append(note);
  }
  // The recorded heatmap has the one fixed colour scale; fetched (not linked) because it needs the token.
  api(r.id ? `/v1/results/${r.id}/heatmap` : r.heatmap_url)
    .catch(() => api(r.heatmap_url))
    .then((res) => res.blob())
    .then((blob) => {
      const img = card.querySelector('.heatmap');
      img.onload = () => {
        card.dataset.ready = '1';
      };
      img.src = URL.createObjectURL(blob);
    })
    .catch((e) => setStatus(`heatmap for ${card.querySelector('.name').textContent}: ${e.message}`, true));
}

async function inspectFile(file) {
  const name = file.webkitRelativePath || file.name;
  const card = newCard(name);
  try {
    const form = new FormData();
    form.append('images', file, name);
    const model = chosenModel();
    const { results } = await (await api(`/v1/predict${model ? `?model=${encodeURIComponent(model)}` : ''}`, { method: 'POST', body: form })).json();
    showResult(card, results[0]);
    return true;
  } catch (e) {
    showError(card, `${name}: ${e.message}`);
    return false;
  }
}

async function upload(list) {
  const files = [...list];
  if (files.length === 0) return;
  let done = 0;
  let failed = 0;
  let next = 0;
  const step = () => setStatus(`inspected ${done} of ${files.length}${failed ? ` (${failed} could not be inspected)` : ''}`);
  step();
  const worker = async () => {
    while (next < files.length) {
      const ok = await inspectFile(files[next++]);
      done++;
      if (!ok) failed++;
      step();
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, files.length) }, worker));
  await loadHistory();
  await loadModel();
  await feedback.refresh();
}

async function applyThreshold() {
  const t = Number($('#threshold').value);
  try {
    const body = JSON.stringify({ threshold: t });
    const r = await (await api('/v1/threshold', { method: 'PUT', body, headers: { 'content-type': 'application/json' } })).json();
    setStatus(`threshold ${fmt(r.threshold)} applies to parts from now on; earlier parts keep their verdicts`);
    await loadModel();
  } catch (e) {
    setStatus(`threshold not changed: ${e.message}`, true);
  }
}

function wire() {
  $('#token').value = sessionStorage.getItem('patchcore-token') || '';
  $('#token').addEventListener('change', () => {
    sessionStorage.setItem('patchcore-token', $('#token').value.trim());
    loadModel();
    loadHistory();
    feedback.refresh();
  });
  $('#files').addEventListener('change', (e) => {
    upload(e.target.files);
    e.target.value = '';
  });
  const drop = $('#drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    upload(e.dataTransfer.files);
  });
  $('#apply-threshold').addEventListener('click', applyThreshold);
  wireModelChoice();
  loadModel();
  loadHistory();
  feedback.refresh();
}

const feedback = createFeedback({ $, api, setStatus, onModelChange: () => Promise.all([loadModel(), loadHistory()]) });
wire();
