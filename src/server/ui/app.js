// Inspection page: upload images to /v1/predict, show original + heatmap, re-judge verdicts
// against a client-side threshold. No dependencies; user text only ever goes into textContent.
const $ = (sel) => document.querySelector(sel);
const state = { modelThreshold: null, threshold: null, scale: 1, results: [], history: loadHistory() };
const HISTORY_MAX = 20;

function loadHistory() {
  try { return JSON.parse(localStorage.getItem('patchcore-history') || '[]'); } catch { return []; }
}
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
function verdictOf(score) {
  if (state.threshold === null) return 'pending';
  return score > state.threshold ? 'anomalous' : 'good';
}
function paintBadge(el, score) {
  const v = verdictOf(score);
  el.textContent = v === 'pending' ? '…' : v.toUpperCase();
  el.className = `verdict badge ${v}`;
}

async function api(path, init = {}) {
  const res = await fetch(path, { ...init, headers: { ...headers(), ...(init.headers || {}) } });
  if (res.status === 401) $('#token-box').open = true;
  if (!res.ok) {
    let msg = `${res.status} ${res.statusText}`;
    try { msg = (await res.json()).message || msg; } catch {}
    const retry = res.headers.get('retry-after');
    throw new Error(retry ? `${msg} (retry in ${retry} s)` : msg);
  }
  return res;
}

async function loadModel() {
  try {
    const m = await (await api('/v1/model')).json();
    const t = m.thresholdInfo;
    const why = t.method === 'conformal' ? `about ${+t.promisedFpr.toPrecision(2)} false alarms, from ${t.n} good images`
      : t.method === 'manual' ? `set by ${t.source}` : `${t.method} on ${t.n} labelled images`;
    $('#model-info').textContent = `model ${m.model_id} · backbone ${m.backbone.id}${m.backbone.int8 ? ' (int8)' : ''} · input ${m.preprocessing.resize}/${m.preprocessing.crop} · model threshold ${fmt(m.threshold)} (${why})`;
    $('#save-threshold').hidden = !m.canSaveThreshold;
    state.modelThreshold = m.threshold;
    state.scale = m.normalization.scale;
    setThreshold(m.threshold);
    $('#threshold').disabled = false;
    $('#reset-threshold').disabled = false;
  } catch (e) {
    $('#model-info').textContent = 'model info unavailable';
    setStatus(`cannot load model info: ${e.message}`, true);
  }
}

/** Slider range covers the model threshold and every score seen, with headroom. */
function updateSliderRange() {
  const s = $('#threshold');
  const top = Math.max(state.modelThreshold ?? 0, ...state.results.map((r) => r.score), ...state.history.map((h) => h.score));
  s.max = String(top * 1.5 || 1);
  s.step = String((top * 1.5 || 1) / 1000);
  s.value = String(state.threshold);
}

function setThreshold(t) {
  state.threshold = t;
  $('#threshold-value').textContent = fmt(t);
  updateSliderRange();
  repaint();
}

function repaint() {
  for (const r of state.results) {
    paintBadge(r.card.querySelector('.verdict'), r.score);
    r.card.querySelector('.thr').textContent = fmt(state.threshold);
    // as the server's `normalized`: 0.5 at the threshold the slider shows
    r.card.querySelector('.norm').textContent = (1 / (1 + Math.exp(-(r.score - state.threshold) / state.scale))).toFixed(3);
    const t = (state.threshold - r.lo) / (r.hi - r.lo);
    r.card.querySelector('.mark').style.left = `${100 * Math.max(0, Math.min(1, t))}%`;
  }
  renderHistory();
}

function renderHistory() {
  const body = $('#history tbody');
  body.replaceChildren();
  for (const h of state.history) {
    const tr = document.createElement('tr');
    const cells = [new Date(h.time).toLocaleTimeString(), h.name, fmt(h.score), ''];
    cells.forEach((text, i) => {
      const td = document.createElement('td');
      td.textContent = text;
      if (i === 2) td.className = 'num';
      tr.append(td);
    });
    const badge = document.createElement('span');
    paintBadge(badge, h.score);
    tr.lastChild.append(badge);
    body.append(tr);
  }
}

function addCard(file, r) {
  const card = $('#card-template').content.firstElementChild.cloneNode(true);
  card.querySelector('.name').textContent = file.name;
  card.querySelector('.name').title = file.name;
  card.querySelector('.original').src = URL.createObjectURL(file);
  card.querySelector('.score').textContent = fmt(r.score);
  card.querySelector('.ms').textContent = `${r.ms} ms`;
  // Same colour scale as the server's overlay: [map min, max(map max, model threshold)].
  const lo = r.map.min;
  const hi = Math.max(r.map.max, r.threshold, lo + 1e-6);
  card.querySelector('.lo').textContent = fmt(lo);
  card.querySelector('.hi').textContent = fmt(hi);
  card.querySelector('.heat-wrap').style.setProperty('--ar', `${r.image.width} / ${r.image.height}`);
  card.dataset.score = String(r.score);
  $('#results').prepend(card);
  state.results.unshift({ card, score: r.score, lo, hi });
  state.history.unshift({ time: Date.now(), name: file.name, score: r.score });
  state.history.length = Math.min(state.history.length, HISTORY_MAX);
  try { localStorage.setItem('patchcore-history', JSON.stringify(state.history)); } catch {}
  // The heatmap needs the bearer token too, so it is fetched, not linked.
  api(r.heatmap_url)
    .then((res) => res.blob())
    .then((blob) => {
      const img = card.querySelector('.heatmap');
      img.onload = () => { card.dataset.ready = '1'; };
      img.src = URL.createObjectURL(blob);
    })
    .catch((e) => setStatus(`heatmap for ${file.name}: ${e.message}`, true));
}

async function upload(files) {
  files = [...files].filter((f) => f.size > 0);
  if (files.length === 0) return;
  const form = new FormData();
  for (const f of files) form.append('images', f, f.name);
  setStatus(`inspecting ${files.length} image${files.length > 1 ? 's' : ''}…`);
  try {
    const { results } = await (await api('/v1/predict', { method: 'POST', body: form })).json();
    results.forEach((r, i) => {
      addCard(files[i], r);
    });
    updateSliderRange();
    repaint();
    setStatus(`inspected ${results.length} image${results.length > 1 ? 's' : ''}`);
  } catch (e) {
    setStatus(`upload failed: ${e.message}`, true);
  }
}

/** Only a server started with --token offers this; the PUT carries the token like every /v1 call. */
async function saveThreshold() {
  try {
    const body = JSON.stringify({ threshold: state.threshold });
    const r = await (await api('/v1/threshold', { method: 'PUT', body, headers: { 'content-type': 'application/json' } })).json();
    setStatus(`threshold ${fmt(r.threshold)} saved into the model (now ${r.model_id})`);
    await loadModel();
  } catch (e) {
    setStatus(`could not save the threshold: ${e.message}`, true);
  }
}

function wire() {
  $('#token').value = sessionStorage.getItem('patchcore-token') || '';
  $('#token').addEventListener('change', () => {
    sessionStorage.setItem('patchcore-token', $('#token').value.trim());
    loadModel();
  });
  $('#files').addEventListener('change', (e) => {
    upload(e.target.files);
    e.target.value = '';
  });
  const drop = $('#drop');
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    upload(e.dataTransfer.files);
  });
  $('#threshold').addEventListener('input', (e) => setThreshold(Number(e.target.value)));
  $('#reset-threshold').addEventListener('click', () => setThreshold(state.modelThreshold));
  $('#save-threshold').addEventListener('click', saveThreshold);
  renderHistory();
  loadModel();
}

wire();
