// A scoring rule added from outside src/ is one object and one registerScoringRule call: the
// 2nd-nearest distance then goes through fit, predict, the leave-one-out threshold (pruned only
// when the rule declares its bound), save and load, the export sidecar, the eval report and the
// exported ONNX graph. Each check fails where a place decides by kind instead of asking the registry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { bruteForceKnn, tempDir } from './helpers.js';
import { writeSyntheticDataset } from '../src/data/synthetic.js';
import { loadBackbone } from '../src/backbone/index.js';
import { PatchCore } from '../src/model/patchcore.js';
import { DEFAULT_SCORING, DEFAULT_TARGET_FPR } from '../src/model/config.js';
import { loadImage } from '../src/image/load.js';
import { FeatureStore } from '../src/memory/index.js';
import { bankFromStore } from '../src/model/bank.js';
import { leaveOneOutScores, leaveOneOutScoresPlain } from '../src/model/threshold.js';
import { conformalThreshold } from '../src/scoring/decision.js';
import { defineRule, pow, registerScoringRule, scoringRule, scoringRules } from '../src/scoring/rules/index.js';
import { exportModel } from '../src/export/export.js';
import { OnnxPredictor } from '../src/export/onnx-predict.js';
import { relDeviation } from '../src/export/validate.js';
import { evalReportHtml } from '../src/report/eval-report.js';
import type { EvalResult } from '../src/model/evaluate.js';
import type { ScoreKind, ScoringConfig } from '../src/types.js';

/** The export tests' tolerance: graph vs PatchCore.predict, relative. */
const TOL = 1e-4;
const SIZE = 160;

/** The distance to the 2nd nearest bank row: it grows with the 2 nearest distances, so the pruned bound would hold. */
const second = defineRule({
  kind: 'second-nearest',
  help: '`second-nearest` (test only)',
  label: () => 'second-nearest (test rule)',
  describe: (_, d) => `the ${d} to the patch's second nearest memory-bank feature (test rule)`,
  needsNeighbourTable: false,
  leaveOutBound: false, // declared off: the threshold must score every cell
  neighbours: () => 2,
  patchScore: (p, s) => pow(p.dist(Math.min(1, p.k - 1)), s),
  graph: ({ g, nearest, pow: p }) => p(g.op('Gather', [nearest(), g.init(g.fresh('second'), [], BigInt64Array.of(1n))], { axis: 1 })),
});
registerScoringRule(second);
registerScoringRule({ ...second, kind: 'second-nearest-bounded', leaveOutBound: true });

const cfgOf = (kind: string, extra: Partial<ScoringConfig> = {}): ScoringConfig => ({ ...DEFAULT_SCORING, kind: kind as ScoreKind, ...extra });
const SCORING = cfgOf('second-nearest');

const ready = (async () => {
  const dir = await writeSyntheticDataset(tempDir('pc-rule-'), { size: SIZE, train: 8, testGood: 2, testPerDefect: 1 });
  const list = async (sub: string) => (await fs.readdir(path.join(dir, sub))).sort().map((f) => path.join(dir, sub, f));
  const train = await list('train/good');
  const tests = [...(await list('test/good')), ...(await list('test/scratch')), ...(await list('test/missing'))];
  const backbone = await loadBackbone('inception_v3');
  const opts = { preprocess: { resize: SIZE, crop: SIZE }, background: null, featureDim: 0, ratio: 0.1, seed: 0, scoring: SCORING };
  const model = await PatchCore.fit(train, backbone, opts);
  return { dir, train, backbone, opts, model, images: await Promise.all(tests.map((f) => loadImage(f))) };
})();

test('registry: the test rules join the built-in ones; a kind is registered once; an unknown kind names them all', () => {
  assert.deepEqual(
    scoringRules().map((r) => r.kind),
    ['nearest', 'knn-mean', 'neighbourhood', 'second-nearest', 'second-nearest-bounded'],
  );
  assert.throws(() => registerScoringRule(second), /Expected a kind not registered yet for rule.kind but received "second-nearest"/);
  assert.throws(() => scoringRule('max'), {
    message: 'Expected "nearest", "knn-mean", "neighbourhood", "second-nearest" or "second-nearest-bounded" for scoring.kind but received "max"',
  });
});

test('fit refuses an unregistered kind before any work, with one line naming the kinds', async () => {
  const { dir, backbone, opts } = await ready;
  // files that do not exist: reading them would fail with another message
  const missing = [path.join(dir, 'missing-0.png'), path.join(dir, 'missing-1.png')];
  await assert.rejects(PatchCore.fit(missing, backbone, { ...opts, scoring: cfgOf('max') }), {
    name: 'UserError',
    message: /^Expected "nearest", .* or "second-nearest-bounded" for scoring.kind but received "max"$/,
  });
});

test('fit and predict score with the rule: the image score is the largest 2nd-nearest distance, by brute force', async () => {
  const { model, images } = await ready;
  assert.equal(model.config.scoring.kind, 'second-nearest');
  for (const [i, img] of images.entries()) {
    const e = await model.extractor.extract(img);
    const { dist } = bruteForceKnn(e.features.data, e.features.count, model.fitted.bank, 2);
    const expected = Math.max(...dist.map((d) => d[1]));
    const got = (await model.predict(img)).score;
    assert.ok(Math.abs(got - expected) <= 1e-5 * expected, `image ${i}: predict ${got}, brute-force 2nd-nearest ${expected}`);
  }
});

test('leave-one-out threshold: unpruned unless the rule declares its bound, and equal to the plain reference quantile', async () => {
  const { train, model, backbone } = await ready;
  // the store and bank fit built, again (same files, same seed)
  const store = new FeatureStore({ seed: 0 });
  try {
    const images = await model.extractor.storeFiles(train, store);
    const o = { seed: 0, images: 40, mapStride: backbone.spec.strides[0] };
    for (const [kind, pruned] of [
      ['second-nearest', false],
      ['second-nearest-bounded', true],
    ] as const) {
      const cfg = cfgOf(kind);
      const fb = await bankFromStore(store, { ratio: 0.1, seed: 0, scoring: cfg });
      assert.deepEqual(fb.bank.data, model.fitted.bank.data, 'the same bank as fit');
      const loo = await leaveOneOutScores({ store: store, images: images }, fb, cfg, o);
      const plain = await leaveOneOutScoresPlain({ store: store, images: images }, fb, cfg, o);
      assert.equal(loo.pruned, pruned, `${kind}: the pruned path ${pruned ? 'taken' : 'not taken'}`);
      assert.equal(plain.pruned, false);
      loo.image.forEach((v, i) => assert.ok(Math.abs(v - plain.image[i]) <= 1e-6 * plain.image[i], `${kind} image ${i}: ${v} vs plain ${plain.image[i]}`));
      const reference = conformalThreshold(plain.image, DEFAULT_TARGET_FPR).value;
      const t = conformalThreshold(loo.image, DEFAULT_TARGET_FPR).value;
      assert.ok(Math.abs(t - reference) <= 1e-6 * reference, `${kind}: threshold ${t} vs plain ${reference}`);
      // fit's saved threshold came from the same scores
      if (kind === 'second-nearest') assert.equal(model.config.threshold, reference);
      await fb.nn.release();
    }
  } finally {
    store.close();
  }
});

test('save and load keep the rule (model.json accepts registered kinds); the report and sidecar use its words', async () => {
  const { dir, model, backbone, images } = await ready;
  const mdir = path.join(dir, 'model');
  await model.save(mdir);
  const loaded = await PatchCore.load(mdir, backbone);
  assert.equal(loaded.config.scoring.kind, 'second-nearest');
  assert.equal((await loaded.predict(images[0])).score, (await model.predict(images[0])).score);
  await loaded.fitted.nn.release();

  const html = await evalReportHtml(emptyResult(), { dataset: dir, backbone: 'inception_v3', coreset: 0.1, scoring: SCORING, runs: 1 });
  assert.match(html, /<dt>scoring<\/dt><dd>second-nearest \(test rule\), map σ=4<\/dd>/);
});

test("export: the graph holds the rule's nodes and matches PatchCore.predict; the sidecar describes the rule", async () => {
  const { model, images } = await ready;
  const r = await exportModel(model);
  assert.match(r.sidecar.semantics, /^Patch score: the Euclidean distance to the patch's second nearest memory-bank feature \(test rule\)\./);
  assert.equal(r.sidecar.scoring.kind, 'second-nearest');
  const graph = await OnnxPredictor.fromBytes(r.bytes, r.sidecar);
  try {
    for (const [i, img] of images.entries()) {
      const [a, b] = [await graph.predict(img), await model.predict(img)];
      const ds = relDeviation([a.score], [b.score]);
      assert.ok(ds < TOL, `image ${i}: graph ${a.score} vs predict ${b.score} (rel ${ds.toExponential(2)})`);
      const dm = relDeviation(a.map.data, b.map.data);
      assert.ok(dm < TOL, `image ${i}: map deviation ${dm.toExponential(2)}`);
    }
  } finally {
    await graph.release();
  }
});

/** An eval result with no test image: the report's header is what is checked. */
function emptyResult(): EvalResult {
  const none = { mean: null, std: null, runs: [null], reason: 'no test images' };
  return {
    metrics: {
      image_auroc: none,
      pixel_auroc: none,
      pixel_auroc_anomalous: none,
      aupro: none,
      image_f1_max: none,
      threshold_fpr: none,
      threshold_recall: none,
    },
    fitThresholds: [],
    thresholds: [],
    per_defect: {},
    tests: [],
    seconds: { features: 0, perRun: [0] },
    close: () => undefined,
  };
}
