// `patchcore export`: the single ONNX graph reproduces PatchCore.predict (fp32, 1e-4 relative),
// --fp16 halves the file at a measured, small deviation, and the file is backbone + bank + little.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { tempDir } from './helpers.js';
import { syntheticSample, writeSyntheticDataset } from '../src/data/synthetic.js';
import { loadBackbone } from '../src/backbone/index.js';
import { PatchCore } from '../src/model/patchcore.js';
import { DEFAULT_SCORING } from '../src/model/config.js';
import { encodePng, loadImage } from '../src/image/load.js';
import { resizeBilinear } from '../src/image/resize.js';
import { DEFAULT_BACKGROUND } from '../src/image/background.js';
import { exportModel } from '../src/export/export.js';
import { OnnxPredictor } from '../src/export/onnx-predict.js';
import { graphVsGraph, relDeviation } from '../src/export/validate.js';
import { readSidecar } from '../src/export/sidecar.js';
import { exportCommand } from '../src/cli/commands/export.js';
import type { RgbImage, ScoringConfig } from '../src/types.js';

const TOL = 1e-4;

async function setup() {
  const dir = await writeSyntheticDataset(tempDir('pc-export-'), { size: 224, train: 8, testGood: 2, testPerDefect: 1 });
  const list = async (sub: string) => (await fs.readdir(path.join(dir, sub))).sort().map((f) => path.join(dir, sub, f));
  const train = await list('train/good');
  const testFiles = [...(await list('test/good')), ...(await list('test/scratch')), ...(await list('test/missing'))];
  const model = await PatchCore.fit(train, await loadBackbone('inception_v3'), {
    preprocess: { resize: 224, crop: 224 },
    background: null,
    featureDim: 0,
    ratio: 0.1,
    seed: 0,
    scoring: { ...DEFAULT_SCORING },
  });
  return { dir, model, images: await Promise.all(testFiles.map((f) => loadImage(f))) };
}
const ready = setup();

/** Graph vs model on every image: image score and every map pixel within TOL relative. */
async function assertMatches(graph: OnnxPredictor, model: PatchCore, images: RgbImage[], label: string) {
  for (const [i, img] of images.entries()) {
    const [a, b] = [await graph.predict(img), await model.predict(img)];
    const ds = relDeviation([a.score], [b.score]);
    assert.ok(ds < TOL, `${label} image ${i}: score ${a.score} vs ${b.score} (rel ${ds.toExponential(2)})`);
    assert.deepEqual([a.map.width, a.map.height], [b.map.width, b.map.height]);
    const dm = relDeviation(a.map.data, b.map.data);
    assert.ok(dm < TOL, `${label} image ${i}: map deviation ${dm.toExponential(2)}`);
  }
}

// the last one splits the bank into Gemm tiles of 128 rows, merged by a second TopK
const VARIANTS: [string, Partial<ScoringConfig>, number?][] = [
  ['nearest', { kind: 'nearest' }],
  ['neighbourhood', { kind: 'neighbourhood', b: 5 }],
  ['knn-mean, squared, reweighted, tiled bank', { kind: 'knn-mean', k: 3, squared: true, reweight: true, b: 9 }, 128],
];

for (const [label, scoring, tileRows] of VARIANTS) {
  test(`fp32 graph matches PatchCore.predict: ${label}`, async () => {
    const { model, images } = await ready;
    const saved = model.config.scoring;
    model.config.scoring = { ...saved, ...scoring };
    try {
      const r = await exportModel(model, { tileRows });
      const graph = await OnnxPredictor.fromBytes(r.bytes, r.sidecar);
      await assertMatches(graph, model, images, label);
      // a batch of 2 gives what single images give
      const prepared = await Promise.all(images.slice(2, 4).map((img) => graph.prepare(img)));
      const batch = await graph.run(prepared.map((p) => p.data));
      const single = await graph.run([prepared[1].data]);
      assert.ok(relDeviation(batch.score.subarray(1), single.score) < 1e-6);
      await graph.release();
    } finally {
      model.config.scoring = saved;
    }
  });
}

test('file size is backbone + bank + a small overhead; fp16 halves it with a small deviation', async () => {
  const { model, images } = await ready;
  const r = await exportModel(model);
  const overhead = r.sizes.total - r.sizes.backbone - r.sizes.bank;
  assert.ok(overhead >= 0 && overhead < 0.01 * r.sizes.total, `overhead ${overhead} bytes of ${r.sizes.total}`);
  const h = await exportModel(model, { fp16: true });
  assert.ok(h.bytes.byteLength < 0.55 * r.bytes.byteLength, `fp16 ${h.bytes.byteLength} vs fp32 ${r.bytes.byteLength} bytes`);
  const dev = await graphVsGraph(await OnnxPredictor.fromBytes(h.bytes, h.sidecar), await OnnxPredictor.fromBytes(h.fp32Bytes!, h.sidecar), images);
  assert.ok(dev.score > 0 && dev.score < 5e-3, `fp16 score deviation ${dev.score}`);
  assert.ok(dev.map > 0 && dev.map < 2e-2, `fp16 map deviation ${dev.map}`);
});

test('--with-preprocess takes uint8 HWC and matches; background removal runs outside the graph', async () => {
  const { model, images } = await ready;
  const r = await exportModel(model, { withPreprocess: true });
  assert.equal(r.sidecar.input.dtype, 'uint8');
  await assertMatches(await OnnxPredictor.fromBytes(r.bytes, r.sidecar), model, images.slice(0, 3), 'uint8 input');
  // the sidecar's background config is applied by the predictor exactly as the model applies it
  model.config.background = model.extractor.opts.background = DEFAULT_BACKGROUND;
  try {
    const b = await exportModel(model);
    assert.deepEqual(b.sidecar.background, DEFAULT_BACKGROUND);
    await assertMatches(await OnnxPredictor.fromBytes(b.bytes, b.sidecar), model, images.slice(2, 4), 'background');
  } finally {
    model.config.background = model.extractor.opts.background = null;
  }
});

test('export command writes model.onnx, its sidecar and a Triton config; predict --onnx path loads them', async () => {
  const { dir, model, images } = await ready;
  const mdir = path.join(dir, 'model');
  await model.save(mdir);
  const out = path.join(dir, 'serve', 'patchcore.onnx');
  const code = await exportCommand(['--model', mdir, '--out', out, '--fp16', '--quiet']);
  assert.equal(code, 0);
  const sidecar = await readSidecar(`${out}.json`);
  assert.equal(sidecar.fp16, true);
  assert.equal(sidecar.threshold, model.config.threshold);
  assert.ok(sidecar.validation!.vsTypeScript!.score < TOL, JSON.stringify(sidecar.validation));
  assert.ok(sidecar.validation!.fp16VsFp32!.map > 0 && sidecar.validation!.fp16VsFp32!.map < 2e-2, JSON.stringify(sidecar.validation));
  const pbtxt = await fs.readFile(path.join(dir, 'serve', 'config.pbtxt'), 'utf8');
  assert.match(pbtxt, /platform: "onnxruntime_onnx"/);
  assert.match(pbtxt, /dims: \[ 3, 224, 224 \]/);
  assert.match(pbtxt, /default_model_filename: "patchcore.onnx"/);
  const p = await OnnxPredictor.load(out);
  const r = await p.predict(images[3]);
  const ref = await model.predict(images[3]);
  assert.ok(relDeviation([r.score], [ref.score]) < 5e-3);
  assert.equal(r.anomalous, ref.anomalous);
  assert.deepEqual([r.mapOriginal.width, r.mapOriginal.height], [224, 224]);
});

test('normalized score: predict, serve and the exported graph agree to 1e-6; sidecar names the model', async () => {
  const { model, images } = await ready;
  const { buildServer } = await import('../src/server/app.js');
  const { encodePng } = await import('../src/image/load.js');
  const r = await exportModel(model);
  assert.equal(r.sidecar.model_id, model.modelId);
  assert.deepEqual(r.sidecar.normalization, model.config.normalization);
  const graph = await OnnxPredictor.fromBytes(r.bytes, r.sidecar);
  const app = await buildServer({ model });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    for (const [i, img] of images.entries()) {
      const lib = await model.predict(img);
      const res = await fetch(`${url}/v1/predict`, { method: 'POST', body: new Uint8Array(await encodePng(img)), headers: { 'content-type': 'image/png' } });
      assert.equal(res.headers.get('x-model-id'), model.modelId);
      const served = (await res.json()) as { normalized: number; model_id: string };
      const g = await graph.predict(img);
      assert.equal(served.model_id, lib.modelId);
      assert.equal(g.modelId, lib.modelId);
      for (const [name, v] of [
        ['serve', served.normalized],
        ['graph', g.normalized],
      ] as const)
        assert.ok(Math.abs(v - lib.normalized) <= 1e-6, `image ${i}: ${name} normalized ${v} vs predict ${lib.normalized}`);
      assert.equal(lib.normalized > 0.5, lib.anomalous);
    }
  } finally {
    await app.close();
    await graph.release();
  }
});

test("--crop none on non-square images: the graph is fixed to the training images' resized size and matches predict", async () => {
  // 240x176 parts (a stretched synthetic set): resize 176 keeps them whole at 240x176
  const dir = tempDir('pc-export-none-');
  const wide = async (seed: number, kind: 'good' | 'scratch') => resizeBilinear(syntheticSample(seed, kind, 176).image, 240, 176);
  const train: string[] = [];
  for (let i = 0; i < 6; i++) {
    const f = path.join(dir, `train-${i}.png`);
    await fs.writeFile(f, await encodePng(await wide(100 + i, 'good')));
    train.push(f);
  }
  const model = await PatchCore.fit(train, await loadBackbone('inception_v3'), {
    preprocess: { resize: 176, crop: 'none' },
    background: null,
    featureDim: 0,
    ratio: 0.1,
    seed: 0,
    scoring: { ...DEFAULT_SCORING },
  });
  assert.deepEqual(model.config.inputSize, { width: 240, height: 176 });
  const images = [await wide(1, 'good'), await wide(2, 'scratch')];
  for (const withPreprocess of [false, true]) {
    const r = await exportModel(model, { withPreprocess });
    assert.deepEqual(r.sidecar.outputs.anomaly_map.dims, ['N', 1, 176, 240]);
    const graph = await OnnxPredictor.fromBytes(r.bytes, r.sidecar);
    await assertMatches(graph, model, images, `crop none${withPreprocess ? ', uint8' : ''}`);
    // an image of another aspect ratio cannot enter the fixed graph: one clear error
    await assert.rejects(graph.predict(syntheticSample(3, 'good', 176).image), /resizes to 176x176, but the graph takes 240x176/);
    await graph.release();
  }
  // the CLI validates on a synthetic part at the graph's size
  const mdir = path.join(dir, 'model');
  await model.save(mdir);
  assert.equal(await exportCommand(['--model', mdir, '--out', path.join(dir, 'm.onnx'), '--quiet']), 0);
});
