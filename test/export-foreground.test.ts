// The foreground mask inside the ONNX export: the mask nodes alone equal foregroundCells (pcaRaw,
// then closing and dilation by hand) on random features, border and radii included; a fitted
// `--foreground pca` model's graph gives PatchCore.predict's scores and maps (1e-4 relative) on a
// planted background defect the mask silences; `export --triton` carries it (a range model's
// refusal is in test/foreground.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { tempDir } from './helpers.js';
import { SIZE } from './fit-fixture.js';
import { GraphBuilder } from '../src/onnx/builder.js';
import { createSession } from '../src/onnx/session.js';
import { foregroundNodes } from '../src/export/foreground-graph.js';
import { foregroundCells, type ForegroundConfig } from '../src/foreground/mask.js';
import { syntheticSample } from '../src/data/synthetic.js';
import { loadBackbone } from '../src/backbone/index.js';
import { PatchCore } from '../src/model/patchcore.js';
import { DEFAULT_SCORING } from '../src/model/config.js';
import { encodePng } from '../src/image/load.js';
import { writeFileAtomic } from '../src/util/atomic.js';
import { exportModel } from '../src/export/export.js';
import { OnnxPredictor } from '../src/export/onnx-predict.js';
import { readSidecar } from '../src/export/sidecar.js';
import { relDeviation } from '../src/export/validate.js';
import { exportCommand } from '../src/cli/commands/export.js';
import { Rng } from '../src/util/rng.js';
import type { RgbImage, ScoringConfig } from '../src/types.js';

const TOL = 1e-4; // the export's tolerance (test/export.test.ts)

test('foregroundNodes equal foregroundCells on random features: threshold, closing, dilation, grid border', async () => {
  const rng = new Rng(3);
  const [N, h, w, D] = [3, 16, 20, 5];
  const data = Float32Array.from({ length: N * h * w * D }, () => rng.normal());
  const axis = Array.from({ length: D }, () => rng.normal());
  for (const [close, dilate] of [
    [0, 0],
    [1, 1],
    [2, 0],
    [0, 2],
  ]) {
    const fg: ForegroundConfig = {
      requested: 'pca',
      mask: 'pca',
      reason: '',
      close,
      dilate,
      pca: { axis, offset: 0.3, cut: 2.5, separation: 1, agreement: 1, share: 0.5 },
    };
    const g = new GraphBuilder('mask');
    g.input('q', ['n', D]);
    g.op('Identity', [foregroundNodes(g, 'q', fg, h, w)!], {}, 'keep');
    g.output('keep', ['n']);
    const session = await createSession(g.toBytes());
    const out = (await session.run({ q: new ort.Tensor('float32', data, [N * h * w, D]) })).keep.data as Float32Array;
    let on = 0;
    for (let i = 0; i < N; i++) {
      const f = { gridH: h, gridW: w, dim: D, count: h * w, data: data.subarray(i * h * w * D, (i + 1) * h * w * D) };
      const ref = foregroundCells(fg, f)!;
      assert.deepEqual(Array.from(out.subarray(i * h * w, (i + 1) * h * w)), Array.from(ref), `close ${close} dilate ${dilate} image ${i}`);
      on += ref.reduce((a, b) => a + b, 0);
    }
    // neither all on nor all off: the comparison says something
    assert.ok(on > 0 && on < N * h * w, `close ${close} dilate ${dilate}: ${on} of ${N * h * w} cells on`);
    await session.release();
  }
});

/** A good washer with a dust cloud in the background's corner (as test/foreground.test.ts): anomalous, but background. */
function backgroundDefect(seed: number): RgbImage {
  const img = syntheticSample(seed, 'good', SIZE).image;
  for (let y = 0; y < 40; y++) for (let x = 0; x < 40; x++) if ((x * 7 + y * 13) % 17 === 0) img.data.fill(120, (y * SIZE + x) * 3, (y * SIZE + x) * 3 + 3);
  return img;
}

async function setup() {
  const dir = tempDir('pc-export-fg-');
  const files: string[] = [];
  for (let i = 0; i < 12; i++) {
    const f = path.join(dir, `good_${i}.png`);
    await writeFileAtomic(f, await encodePng(syntheticSample(700 + i, 'good', SIZE).image));
    files.push(f);
  }
  const backbone = await loadBackbone('inception_v3');
  const model = await PatchCore.fit(files, backbone, {
    preprocess: { resize: SIZE, crop: SIZE },
    background: null,
    featureDim: 0,
    ratio: 0.1,
    seed: 0,
    scoring: DEFAULT_SCORING,
    targetFpr: 0.1,
    foreground: 'pca',
  });
  const images = [backgroundDefect(902), syntheticSample(901, 'crack', SIZE).image, syntheticSample(902, 'good', SIZE).image];
  return { dir, backbone, images, model };
}
const ready = setup();

async function assertMatches(graph: OnnxPredictor, model: PatchCore, images: RgbImage[], label: string) {
  for (const [i, img] of images.entries()) {
    const [a, b] = [await graph.predict(img), await model.predict(img)];
    const ds = relDeviation([a.score], [b.score]);
    assert.ok(ds < TOL, `${label} image ${i}: score ${a.score} vs ${b.score} (rel ${ds.toExponential(2)})`);
    const dm = relDeviation(a.map.data, b.map.data);
    assert.ok(dm < TOL, `${label} image ${i}: map deviation ${dm.toExponential(2)}`);
  }
}

const VARIANTS: [string, Partial<ScoringConfig>][] = [
  ['nearest', { kind: 'nearest' }],
  ['knn-mean, reweighted', { kind: 'knn-mean', k: 3, reweight: true, b: 9 }],
];

for (const [label, scoring] of VARIANTS)
  test(`--foreground pca: the graph matches PatchCore.predict (${label}), the background defect silenced in both`, async () => {
    const { model, images } = await ready;
    assert.equal(model.config.foreground?.mask, 'pca');
    const saved = model.config.scoring;
    model.config.scoring = { ...saved, ...scoring };
    try {
      for (const withPreprocess of [false, true]) {
        const r = await exportModel(model, { withPreprocess });
        assert.equal(r.sidecar.foreground?.mask, 'pca');
        const graph = await OnnxPredictor.fromBytes(r.bytes, r.sidecar);
        await assertMatches(graph, model, images, `${label}${withPreprocess ? ', uint8' : ''}`);
        await graph.release();
      }
      // the mask matters on these images: without it the graph's background-defect score is higher
      const fg = model.config.foreground;
      model.config.foreground = undefined;
      const bare = await exportModel(model);
      model.config.foreground = fg;
      const g = await OnnxPredictor.fromBytes(bare.bytes, bare.sidecar);
      const [unmasked, masked] = [(await g.predict(images[0])).score, (await model.predict(images[0])).score];
      assert.ok(unmasked > 1.2 * masked, `the mask lowers the background defect's score: ${unmasked} unmasked vs ${masked}`);
      await g.release();
    } finally {
      model.config.scoring = saved;
    }
  });

test("export --triton of a pca model: the repository's graph scores as predict", async () => {
  const { dir, model, backbone, images } = await ready;
  const mdir = path.join(dir, 'model-pca');
  await model.save(mdir);
  const loaded = await PatchCore.load(mdir, backbone);
  assert.equal(await exportCommand(['--model', mdir, '--triton', path.join(dir, 'repo'), '--quiet']), 0);
  const onnxFile = path.join(dir, 'repo', 'model-pca', '1', 'model.onnx');
  const sidecar = await readSidecar(`${onnxFile}.json`);
  assert.ok(sidecar.validation!.vsTypeScript!.score < TOL, JSON.stringify(sidecar.validation));
  const p = await OnnxPredictor.load(onnxFile);
  for (const img of images) assert.ok(relDeviation([(await p.predict(img)).score], [(await loaded.predict(img)).score]) < TOL);
  await p.release();
});
