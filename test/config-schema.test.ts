// model.json is checked field by field: a valid file passes (extra fields kept), each broken field
// is named, older files are upgraded before the check.
import { TOOL } from '../src/util/version.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseModelConfig, PLAIN_FILE } from '../src/model/config-schema.js';
import { MODEL_FORMAT, RESIZE_SINCE, resizeChangeNote } from '../src/model/config.js';

const H = 'a'.repeat(64);
const valid = () => ({
  format: MODEL_FORMAT,
  createdAt: '2026-11-30T00:00:00.000Z',
  tool: { name: 'patchcore-ts', version: '0.1.0' },
  trainingData: { images: 8, sha256: H, method: 'm' },
  backbone: { id: 'inception_v3', hash: H, layers: ['a', 'b'] },
  preprocess: { resize: 256, crop: 224, mean: [0, 0, 0], std: [1, 1, 1] },
  background: null,
  featureDim: 0,
  coreset: { ratio: 0.1, seed: 0, trainPatches: 100 },
  scoring: { kind: 'nearest', k: 3, b: 9, squared: false, reweight: false, sigma: 4 },
  bank: { file: `bank-${'0'.repeat(16)}.bin`, sha256: H, size: 10, dim: 4, b: 0 },
  trainScores: { mean: 1, std: 0.1, max: 2, n: 8 },
  threshold: 1.5,
  thresholdInfo: { method: 'f1-max', n: 4, date: 'd', f1: 1, recall: null, fpr: 0 },
  pixelThreshold: null,
  normalization: { scale: 0.1 },
});
const parse = (c: unknown) => parseModelConfig(JSON.stringify(c), 'model.json');

test('a valid model.json passes; unknown fields are kept; a null rate reads as absent', () => {
  const c = parse({ ...valid(), addedLater: { x: 1 } }) as unknown as Record<string, unknown>;
  assert.deepEqual(c.addedLater, { x: 1 });
  assert.equal((c.thresholdInfo as Record<string, unknown>).recall, undefined);
});

test('each broken field is named with what was expected and what was found', () => {
  const cases: [(c: Record<string, any>) => void, string][] = [
    [(c) => delete c.bank, 'Expected an object { file, sha256, size, dim, b } for model.json bank but received undefined'],
    [(c) => (c.preprocess.resize = 'big'), 'Expected an integer 16..4096 for model.json preprocess.resize but received "big"'],
    [(c) => (c.bank.file = '../../etc/passwd'), 'Expected a plain file name in the model directory for model.json bank.file but received "../../etc/passwd"'],
    [(c) => (c.bank.size = -3), 'Expected an integer 1..2147483648 for model.json bank.size but received -3'],
    [(c) => (c.scoring.kind = 'max'), 'Expected "nearest", "knn-mean" or "neighbourhood" for model.json scoring.kind but received "max"'],
    [(c) => (c.coreset.ratio = 0), 'Expected a ratio in (0, 1] for model.json coreset.ratio but received 0'],
    [(c) => (c.preprocess.crop = 'all'), 'Expected an integer 16..4096 or "none" for model.json preprocess.crop but received "all"'],
    [
      (c) => (c.background = { range: { lo: [0, 0, 0], hi: [300, 0, 0] }, morph: 5, filter: 'average', size: 11 }),
      'Expected three numbers in [0, 255] for model.json background.range.hi but received an array of 3',
    ],
  ];
  for (const [edit, message] of cases) {
    const c = valid();
    edit(c);
    assert.throws(() => parse(c), { message });
  }
});

test('bank file names: plain names only', () => {
  for (const ok of ['bank-0123.bin', 'a.b', 'x_y-z']) assert.ok(PLAIN_FILE.test(ok), ok);
  for (const bad of ['..', '.', '../x', 'a/b', 'a\\b', '/etc/passwd', '', 'C:x']) assert.ok(!PLAIN_FILE.test(bad), bad);
});

test('a model.json from before calibrated thresholds is upgraded, then checked', () => {
  const { thresholdInfo: _t, pixelThreshold: _p, normalization: _n, ...old } = valid();
  const c = parse({ ...old, thresholdSource: 'mean + 3 std', trainScores: { mean: 1, std: 0.1, max: 2 } });
  assert.equal(c.thresholdInfo.method, 'manual');
  assert.equal(c.pixelThreshold, null);
  assert.equal(c.normalization.scale, 0.1);
  assert.equal(c.trainScores.n, 0);
});

test("models fitted before the resize became Pillow's get a warning; current ones do not", () => {
  assert.match(
    resizeChangeNote({ tool: { name: 'patchcore-ts', version: '0.1.0' } }) ?? '',
    /fitted by patchcore-ts 0\.1\.0, which resized images with libvips; since 0\.2\.0/,
  );
  assert.match(resizeChangeNote({}) ?? '', /before 0\.1\.0/);
  assert.equal(resizeChangeNote({ tool: { name: 'patchcore-ts', version: RESIZE_SINCE } }), null);
  assert.equal(resizeChangeNote({ tool: { name: 'patchcore-ts', version: '0.10.0' } }), null, 'numbers, not text');
  assert.equal(resizeChangeNote({ tool: { name: 'patchcore-ts', version: TOOL.version } }), null);
});
