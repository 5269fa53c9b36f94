// The evaluation protocol and the sweep, through the CLI, on a tiny synthetic dataset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { CLI, tempDir } from './helpers.js';
import { writeSyntheticDataset } from '../src/data/synthetic.js';

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const data = path.join(tempDir(), 'data');
const ready = writeSyntheticDataset(data, { size: 224, train: 8, testGood: 3, testPerDefect: 2 });

test('eval --runs 2 --json: every metric as {mean, std, runs}, per defect type, and report.html', async () => {
  await ready;
  const out = tempDir();
  const r = run('eval', '--data', data, '--runs', '2', '--coreset', '0.2', '--json', '--out', out, '--quiet');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  for (const k of ['image_auroc', 'pixel_auroc', 'pixel_auroc_anomalous', 'aupro', 'image_f1_max']) {
    assert.equal(j[k].runs.length, 2, k);
    assert.ok(j[k].mean > 0.5 && j[k].mean <= 1, `${k} = ${j[k].mean}`);
    assert.ok(j[k].std >= 0);
  }
  assert.deepEqual(Object.keys(j.per_defect).sort(), ['crack', 'missing', 'scratch']);
  const html = await fs.readFile(path.join(out, 'report.html'), 'utf8');
  assert.match(html, /<svg/);
  assert.doesNotMatch(html.replace(/data:[^"')\s]+/g, ''), /NaN/); // not inside base64 images, where 'NaN' can occur by chance
  // the Markdown table, too
  const md = run('eval', '--data', data, '--coreset', '0.2', '--quiet');
  assert.equal(md.code, 0, md.err);
  assert.match(md.out, /\| image_auroc \| [01]\.\d{4} \|/); // a perfect 1.0000 on this easy set is fine
});

test('one-class test sets are reported undefined with a reason; a defect without its mask is an error', async () => {
  await ready;
  const one = path.join(tempDir(), 'one');
  await fs.cp(data, one, { recursive: true });
  for (const d of ['scratch', 'crack', 'missing']) await fs.rm(path.join(one, 'test', d), { recursive: true });
  const r = run('eval', '--data', one, '--coreset', '0.2', '--json', '--quiet');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.image_auroc.mean, null);
  assert.match(j.image_auroc.reason, /one class/);
  assert.doesNotMatch(run('eval', '--data', one, '--coreset', '0.2', '--quiet').out, /NaN/);
  const nomask = path.join(tempDir(), 'nomask');
  await fs.cp(data, nomask, { recursive: true });
  await fs.rm(path.join(nomask, 'ground_truth', 'crack', '000_mask.png'));
  const e = run('eval', '--data', nomask, '--coreset', '0.2', '--quiet');
  assert.equal(e.code, 2);
  assert.match(e.err, /crack.*000\.png.*without a ground-truth mask/);
});

test('sweep writes plots, table and JSON, and resumes finished settings', async () => {
  await ready;
  const out = tempDir();
  const args = ['sweep', '--data', data, '--filters', 'none,average,median', '--sizes', '5,6', '--runs', '1', '--coreset', '0.2', '--out', out, '--quiet'];
  const first = run(...args);
  assert.equal(first.code, 0, first.err);
  // median 6 is skipped (even), so: none, average 5, average 6, median 5
  const results = JSON.parse(await fs.readFile(path.join(out, 'sweep.json'), 'utf8'));
  assert.deepEqual(results.map((r: { key: string }) => r.key).sort(), ['average-5-nearest', 'average-6-nearest', 'median-5-nearest', 'none-0-nearest']);
  const svg = await fs.readFile(path.join(out, 'image_auroc-nearest.svg'), 'utf8');
  assert.match(svg, /class="baseline"/);
  assert.ok((await fs.stat(path.join(out, 'pixel_auroc-nearest.svg'))).size > 0);
  // a second run finds every setting done: nothing is recomputed, the stored results are reused
  const stamp = (await fs.stat(path.join(out, 'settings', 'average-5-nearest.json'))).mtimeMs;
  const again = run(...args.filter((a) => a !== '--quiet'));
  assert.equal(again.code, 0, again.err);
  assert.doesNotMatch(again.err, /sweep setting/);
  assert.equal((await fs.stat(path.join(out, 'settings', 'average-5-nearest.json'))).mtimeMs, stamp);
});

test('preprocess writes the 4-panel background figure', async () => {
  await ready;
  const fig = path.join(tempDir(), 'fig.png');
  const r = run('preprocess', path.join(data, 'test', 'good', '000.png'), '--out', fig, '--bg-filter', 'median', '--bg-size', '11');
  assert.equal(r.code, 0, r.err);
  const sharp = (await import('sharp')).default;
  const meta = await sharp(fig).metadata();
  assert.ok(meta.width! >= 4 * 224 && meta.height! >= 224, `${meta.width}x${meta.height}`);
});
