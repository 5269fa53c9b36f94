// Suspect training images in eval: two defective parts planted among the training goods are listed
// (by name, with scores above the bound) in the result, the Markdown/JSON output and report.html.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { tempDir } from './helpers.js';
import { syntheticSample } from '../src/data/synthetic.js';
import { encodePng } from '../src/image/load.js';
import { loadBackbone } from '../src/backbone/index.js';
import { loadDataset } from '../src/data/dataset.js';
import { createExtractor } from '../src/model/extract.js';
import { evaluate } from '../src/model/evaluate.js';
import { DEFAULT_SCORING } from '../src/model/config.js';
import { evalReportHtml } from '../src/report/eval-report.js';
import { evalJson, markdownTable } from '../src/cli/commands/eval.js';

const SIZE = 96;

test('eval lists planted defective training images as suspects, in its output and in report.html', async () => {
  const root = tempDir('pc-eval-suspects-');
  const put = async (dir: string, name: string, kind: 'good' | 'crack', seed: number, square?: number[]) => {
    const img = syntheticSample(seed, kind, SIZE).image;
    if (square) for (let y = 36; y < 60; y++) for (let x = 36; x < 60; x++) img.data.set(square, (y * SIZE + x) * 3);
    await fs.mkdir(path.join(root, dir), { recursive: true });
    await fs.writeFile(path.join(root, dir, name), await encodePng(img));
  };
  for (let i = 0; i < 28; i++) await put('train/good', `good_${String(i).padStart(2, '0')}.png`, 'good', 600 + i);
  await put('train/good', 'planted_a.png', 'good', 70, [255, 0, 0]);
  await put('train/good', 'planted_b.png', 'good', 71, [0, 0, 255]);
  for (let i = 0; i < 2; i++) await put('test/good', `g${i}.png`, 'good', 700 + i);
  for (let i = 0; i < 2; i++) await put('test/crack', `c${i}.png`, 'crack', 710 + i);
  const ds = await loadDataset(root);
  const extractor = await createExtractor(ds.train, await loadBackbone('mobilenet_v2'), {
    preprocess: { resize: SIZE, crop: SIZE },
    background: null,
    featureDim: 0,
  });
  const r = await evaluate(ds, extractor, { runs: 1, ratio: 0.2, seed: 0, scoring: DEFAULT_SCORING });
  try {
    const s = r.suspects!;
    assert.equal(s.scored, 30, 'every training image is scored (fewer than the 40 sampled)');
    const names = s.images.map((x) => x.file);
    assert.ok(names.includes('planted_a.png') && names.includes('planted_b.png'), `suspects ${names.join(', ')} (bound ${s.bound})`);
    assert.ok(s.images.length <= 3, `few clean images flagged: ${names.join(', ')}`);
    for (const x of s.images) assert.ok(x.score > s.bound);
    const md = markdownTable(r, 'x');
    assert.match(md, /suspect training image\(s\)[\s\S]*planted_a\.png/);
    assert.deepEqual((evalJson(r) as { suspects?: { images: unknown[] } }).suspects?.images, s.images);
    const html = await evalReportHtml(r, { dataset: root, backbone: 'mobilenet_v2', coreset: 0.2, scoring: DEFAULT_SCORING, runs: 1 });
    assert.match(html, new RegExp(`Suspect training images \\(${s.images.length}\\)`));
    for (const x of s.images) assert.ok(html.includes(`<td>${x.file}</td><td class="num">${x.score.toFixed(4)}</td>`), x.file);
  } finally {
    r.close();
  }
});
