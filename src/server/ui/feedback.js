// Feedback on the inspection page: each result card gets "mark good" / "mark defect" (POST
// /v1/feedback, with the token the page already sends), and a status line shows the model version
// in use, the good labels waiting and an "apply" button (POST /v1/update). Buttons appear only when
// the server takes feedback (a token and a model directory); user text only goes into textContent.
export function createFeedback({ $, api, setStatus, onModelChange }) {
  let enabled = false;

  async function refresh() {
    let s = null;
    try {
      s = await (await api('/v1/feedback')).json();
    } catch {}
    enabled = !!s?.enabled;
    $('#feedback').hidden = !s;
    for (const m of document.querySelectorAll('.card .marks')) m.hidden = !enabled;
    if (!s) return;
    const from = s.parent ? ` (updated from ${s.parent})` : '';
    $('#feedback-text').textContent = enabled
      ? `model in use ${s.model_id}${from} · ${s.waiting} good label${s.waiting === 1 ? '' : 's'} waiting${s.labels.failed ? ` · ${s.labels.failed} unreadable` : ''}${s.updating ? ' · updating…' : ''}`
      : `model in use ${s.model_id}${from} · labels need a server started with --token and --model DIR`;
    const apply = $('#apply-feedback');
    apply.hidden = !enabled;
    apply.disabled = !s.waiting || s.updating;
  }

  function addButtons(card, id) {
    if (!id) return;
    const box = document.createElement('div');
    box.className = 'marks';
    box.hidden = !enabled;
    for (const label of ['good', 'defect']) {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = `mark ${label}`;
      b.dataset.label = label;
      b.addEventListener('click', async () => {
        const name = card.querySelector('.name').textContent;
        try {
          await api('/v1/feedback', { method: 'POST', body: JSON.stringify({ id, label }), headers: { 'content-type': 'application/json' } });
          card.dataset.label = label;
          for (const x of box.querySelectorAll('button')) x.classList.toggle('chosen', x === b);
          setStatus(`${name} marked ${label}`);
        } catch (e) {
          setStatus(`${name}: label not recorded: ${e.message}`, true);
        }
        await refresh();
      });
      box.append(b);
    }
    card.append(box);
  }

  async function apply() {
    $('#apply-feedback').disabled = true;
    setStatus('adding the good labels to the model…');
    try {
      const r = await (await api('/v1/update', { method: 'POST' })).json();
      const failed = r.failed.length ? `; ${r.failed.length} could not be read` : '';
      setStatus(
        `model ${r.model_id} in use (updated from ${r.parent}): ${r.applied.length} good part${r.applied.length === 1 ? '' : 's'} added${failed}; parts judged before keep their verdicts`,
      );
    } catch (e) {
      setStatus(`model not updated: ${e.message}`, true);
    }
    await refresh();
    await onModelChange();
  }

  $('#apply-feedback').addEventListener('click', apply);
  return { refresh, addButtons };
}
