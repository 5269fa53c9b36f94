// `patchcore calibrate --from-feedback`: the threshold from the station's own labels (the model's
// feedback folder), checked against a brute-force search over every cut between the labelled scores:
// F1-max and the fewest false alarms at a minimum recall. Goods already applied to the bank are left out.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { cpSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { runCli, tempDir } from './helpers.js';
import { tinyModel, tinyPng } from './station-fixture.js';
import { PatchCore } from '../src/model/patchcore.js';
import { listLabels, markLabels, recordLabel } from '../src/model/feedback.js';
import { decodeImage } from '../src/image/load.js';
import type { DefectKind } from '../src/data/synthetic.js';

let fittedDir: string;
before(async () => {
  ({ dir: fittedDir } = await tinyModel());
});

/** A model copy with labelled parts in its feedback folder; returns each part's score and label. */
async function labelled(parts: [DefectKind, number, 'good' | 'defect'][]) {
  const dir = path.join(tempDir('pc-calfb-'), 'tiny');
  cpSync(fittedDir, dir, { recursive: true });
  const model = await PatchCore.open(dir);
  const scored: { score: number; label: 0 | 1 }[] = [];
  for (const [kind, seed, label] of parts) {
    const png = await tinyPng(kind, seed);
    const score = (await model.predict(await decodeImage(png, 'x'))).score;
    const id = randomUUID();
    await recordLabel(
      dir,
      { id, label, model_id: model.modelId, score, verdict: 'pass', source: `${kind}-${seed}`, time: new Date().toISOString() },
      png,
      '.png',
    );
    scored.push({ score, label: label === 'good' ? 0 : 1 });
  }
  return { dir, scored };
}

/** Every cut between distinct scores (and below all): the confusion counts at `score > t`. */
function cuts(scored: { score: number; label: 0 | 1 }[]) {
  const s = [...new Set(scored.map((x) => x.score))].sort((a, b) => a - b);
  const ts = [s[0] - 1, ...s.map((v, i) => (i + 1 < s.length ? (v + s[i + 1]) / 2 : v + 1))];
  return ts.map((t) => {
    const tp = scored.filter((x) => x.label === 1 && x.score > t).length;
    const fp = scored.filter((x) => x.label === 0 && x.score > t).length;
    const fn = scored.filter((x) => x.label === 1 && x.score <= t).length;
    return { t, tp, fp, fn, f1: (2 * tp) / (2 * tp + fp + fn) };
  });
}
function f1At(scored: { score: number; label: 0 | 1 }[], t: number) {
  const tp = scored.filter((x) => x.label === 1 && x.score > t).length;
  const fp = scored.filter((x) => x.label === 0 && x.score > t).length;
  const fn = scored.filter((x) => x.label === 1 && x.score <= t).length;
  return { f1: (2 * tp) / (2 * tp + fp + fn) };
}
const flagged = (scored: { score: number }[], t: number) => scored.map((x) => x.score > t);
const saved = (dir: string) =>
  JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as { threshold: number; thresholdInfo: { method: string; n: number } };

const PARTS: [DefectKind, number, 'good' | 'defect'][] = [
  ['good', 60, 'good'],
  ['good', 61, 'good'],
  ['good', 62, 'good'],
  ['good', 63, 'good'],
  ['scratch', 64, 'good'],
  ['good', 71, 'defect'],
  ['missing', 2, 'defect'],
  ['crack', 65, 'defect'],
  ['scratch', 66, 'defect'],
  ['missing', 67, 'defect'],
  ['crack', 68, 'defect'],
];

test('F1-max from the feedback folder equals the brute-force best cut; applied goods are left out', async () => {
  const { dir, scored } = await labelled([...PARTS, ['scratch', 69, 'good']]);
  const labels = await listLabels(dir);
  const applied = labels.find((l) => l.source === 'scratch-69')!;
  await markLabels(dir, [applied], { applied: { model_id: 'feedbeef0000', time: new Date().toISOString() } });
  const used = scored.slice(0, PARTS.length);
  const r = runCli('calibrate', '--model', dir, '--from-feedback');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /1 applied or unreadable label\(s\) left out/);
  const m = saved(dir);
  assert.deepEqual([m.thresholdInfo.method, m.thresholdInfo.n], ['f1-max', PARTS.length]);
  const best = Math.max(...cuts(used).map((c) => c.f1));
  const at = f1At(used, m.threshold);
  assert.equal(at.f1, best, `the saved threshold ${m.threshold} reaches the best F1 ${best}`);
  assert.ok(best < 1, 'the labels overlap, so the choice matters');
});

test('--min-recall from feedback: the largest cut that still flags the share of defects (brute force)', async () => {
  const { dir, scored } = await labelled(PARTS);
  const r = runCli('calibrate', '--model', dir, '--from-feedback', '--min-recall', '0.8');
  assert.equal(r.code, 0, r.err);
  const ok = cuts(scored).filter((c) => c.tp / (c.tp + c.fn) >= 0.8);
  const ref = ok.reduce((a, c) => (c.t > a.t ? c : a));
  assert.deepEqual(flagged(scored, saved(dir).threshold), flagged(scored, ref.t), 'the same parts flagged as the brute-force cut');
});

test('calibrate: --from-feedback with --data, or a folder without both kinds of label, is one line and exit 2', async () => {
  const { dir } = await labelled([['good', 70, 'good']]);
  const both = runCli('calibrate', '--model', dir, '--from-feedback', '--data', dir);
  assert.equal(both.code, 2);
  assert.match(both.err, /--data DIR or --from-feedback/);
  const one = runCli('calibrate', '--model', dir, '--from-feedback');
  assert.equal(one.code, 2);
  assert.match(one.err, /needs labelled good and defect parts.*has 1 good and 0 defect/);
  assert.equal(one.err.trim().split('\n').length, 1);
});
