// Batch inspection as a line runs it: folders and globs in, one row per image out, failures
// recorded as rows, outputs mirroring the inputs; and calibrate against eval's F1-max.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { runCli, tempDir } from './helpers.js';
import { writeSyntheticDataset } from '../src/data/synthetic.js';
import { CSV_COLUMNS } from '../src/report/rows.js';

const run = runCli;

/** Minimal CSV reader for the fixed columns (quoted fields allowed). */
function readCsv(text: string): Record<string, string>[] {
  const [head, ...lines] = text.trim().split('\n');
  const split = (l: string) =>
    [...l.matchAll(/("([^"]|"")*"|[^,]*)(,|$)/g)].map((m) => m[1].replace(/^"|"$/g, '').replace(/""/g, '"')).slice(0, CSV_COLUMNS.length);
  const cols = split(head);
  return lines.map((l) => Object.fromEntries(split(l).map((v, i) => [cols[i], v])));
}

const root = tempDir('pc-batch-');
const data = path.join(root, 'data');
const model = path.join(root, 'model');
const ready = (async () => {
  await writeSyntheticDataset(data, { size: 224, train: 8, testGood: 6, testPerDefect: 3 });
  const r = run('fit', '--data', data, '--out', model, '--coreset', '0.2', '--quiet');
  assert.equal(r.code, 0, r.err);
})();

test('a folder with a corrupt file: N rows in the CSV, one with the error, exit 3; same-named inputs keep their heatmaps', async () => {
  await ready;
  const inbox = path.join(root, 'inbox');
  await fs.mkdir(path.join(inbox, 'a'), { recursive: true });
  await fs.mkdir(path.join(inbox, 'b', 'deep'), { recursive: true });
  await fs.copyFile(path.join(data, 'test', 'good', '000.png'), path.join(inbox, 'a', '000.png'));
  await fs.copyFile(path.join(data, 'test', 'scratch', '000.png'), path.join(inbox, 'b', '000.png'));
  await fs.copyFile(path.join(data, 'test', 'good', '001.png'), path.join(inbox, 'b', 'deep', 'x,1.png')); // a comma: quoted in the CSV
  await fs.writeFile(path.join(inbox, 'b', 'broken.png'), 'not a png');
  const csv = path.join(root, 'out.csv');
  const heat = path.join(root, 'heat');
  const masks = path.join(root, 'masks');
  const r = run('predict', '--model', model, inbox, '--csv', csv, '--out', heat, '--masks', masks, '--quiet');
  assert.equal(r.code, 3, r.err);
  assert.equal(r.err.trim(), 'patchcore predict: 3 scored (' + r.err.match(/\((\d+) anomalous/)![1] + ' anomalous), 1 failed (exit 3)');
  const text = await fs.readFile(csv, 'utf8');
  assert.equal(text.split('\n')[0], 'file,score,normalized,anomalous,threshold,model_id,ms,error');
  const rows = readCsv(text);
  assert.deepEqual(
    rows.map((x) => path.relative(inbox, x.file)),
    ['a/000.png', 'b/000.png', 'b/broken.png', 'b/deep/x,1.png'],
  ); // recursive, sorted
  const failed = rows.filter((x) => x.error !== '');
  assert.equal(failed.length, 1);
  assert.match(failed[0].error, /broken\.png/);
  assert.deepEqual([failed[0].score, failed[0].normalized, failed[0].anomalous], ['', '', '']);
  const modelId = JSON.parse(run('predict', '--model', model, path.join(inbox, 'a', '000.png'), '--json').out)[0].model_id;
  for (const x of rows.filter((y) => y.error === '')) {
    assert.equal(x.model_id, modelId);
    assert.equal(Number(x.normalized) > 0.5, x.anomalous === 'true');
    assert.equal(x.anomalous === 'true', Number(x.score) > Number(x.threshold));
  }
  for (const rel of ['a/000', 'b/000', 'b/deep/x,1']) {
    assert.ok((await fs.stat(path.join(heat, `${rel}_heatmap.png`))).size > 1000, `${rel} heatmap`);
    const m = await sharp(path.join(masks, `${rel}_mask.png`)).metadata();
    assert.deepEqual([m.width, m.height, m.channels], [224, 224, 1]);
  }
});

test('quoted globs and NDJSON: one object per image, regions listed, --min-area drops small ones', async () => {
  await ready;
  const r = run('predict', '--model', model, path.join(data, 'test', '*', '000.png'), '--ndjson', '--quiet');
  assert.equal(r.code, 0, r.err);
  const rows = r.out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(rows.length, (await fs.readdir(path.join(data, 'test'))).length);
  for (const x of rows) {
    assert.ok(Array.isArray(x.regions));
    for (const g of x.regions) assert.ok(g.area >= 1 && g.box.width >= 1 && g.box.height >= 1);
  }
  const biggest = Math.max(...rows.flatMap((x) => x.regions.map((g: { area: number }) => g.area)));
  assert.ok(biggest > 1, 'some image has a region');
  const big = run('predict', '--model', model, path.join(data, 'test', '*', '000.png'), '--ndjson', '--min-area', String(biggest), '--quiet');
  const kept = big.out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    kept.map((x) => x.regions.length).reduce((a, b) => a + b, 0),
    1,
  );
  for (const x of kept) assert.equal(x.anomalous, x.regions.length > 0, 'with --min-area the verdict follows the regions');
  assert.equal(run('predict', '--model', model, path.join(root, 'nothing-*.png')).code, 2);
});

test("calibrate reproduces eval's F1-max and saves it with its provenance; --min-recall meets the recall", async () => {
  await ready;
  const ev = run('eval', '--data', data, '--coreset', '0.2', '--json', '--quiet');
  assert.equal(ev.code, 0, ev.err);
  const f1 = JSON.parse(ev.out).image_f1_max.mean as number;
  const c = run('calibrate', '--model', model, '--data', data, '--quiet');
  assert.equal(c.code, 0, c.err);
  const got = Number(/F1 (\d\.\d+)/.exec(c.out)![1]);
  assert.ok(Math.abs(got - f1) < 1e-4, `calibrate F1 ${got} vs eval F1-max ${f1}`);
  assert.match(c.out, /good\s+\d+\s+\d+\n\s*defective\s+\d+\s+\d+/);
  const saved = JSON.parse(await fs.readFile(path.join(model, 'model.json'), 'utf8'));
  assert.equal(saved.thresholdInfo.method, 'f1-max');
  assert.ok(Math.abs(saved.thresholdInfo.f1 - f1) < 1e-9);
  assert.ok(saved.pixelThresholdInfo.method === 'f1-max', 'masks present: the pixel threshold is calibrated too');
  const m = run('calibrate', '--model', model, '--data', data, '--min-recall', '1', '--quiet');
  assert.match(m.out, /defects caught 100\.0 %/);
  assert.equal(JSON.parse(await fs.readFile(path.join(model, 'model.json'), 'utf8')).thresholdInfo.method, 'min-recall');
});
