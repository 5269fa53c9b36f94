// Settings declared once (src/settings/): presets resolve as the CLI always resolved them, each
// bound is the same in the CLI, model.json's schema and the library, errors carry their key, and
// model.json files of the current format still load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_PRESET, PRESETS, resolveFitOptions } from '../src/settings/presets.js';
import { BG_MORPH, BG_SIZE, CROP, RATIO, RESIZE, SEED, SIGMA, TARGET_FPR, checkNumber, withinBounds, type NumberSetting } from '../src/settings/index.js';
import { coresetRatio, preprocessFlags, presetOf } from '../src/cli/args.js';
import { inFlags, parseCommand } from '../src/cli/options.js';
import { FIT } from '../src/cli/commands/fit.js';
import { parseModelConfig } from '../src/model/config-schema.js';
import { validateBackgroundConfig, DEFAULT_BACKGROUND } from '../src/image/background.js';
import { checkRatio } from '../src/memory/index.js';
import { UserError, invalid } from '../src/util/errors.js';

const thrown = (f: () => unknown): UserError => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof UserError, String(e));
    return e;
  }
  assert.fail('did not throw');
};

test('a preset alone gives its values; the default preset when none is named; v1 with another backbone', () => {
  const d = resolveFitOptions(undefined);
  const p = PRESETS[DEFAULT_PRESET];
  assert.equal(d.preset, DEFAULT_PRESET);
  assert.deepEqual([d.backbone, d.preprocess, d.featureDim, d.precision, d.ratio], [p.backbone, p.preprocess, p.featureDim, p.precision, p.ratio]);
  assert.deepEqual([d.seed, d.background, d.foreground, d.targetFpr], [0, null, 'off', 0.05]);
  assert.deepEqual(d.scoring, { kind: 'nearest', k: 3, b: 9, squared: false, reweight: false, sigma: 4 });
  const v1 = resolveFitOptions('v1');
  assert.deepEqual([v1.preprocess, v1.precision, v1.ratio], [{ resize: 256, crop: 224 }, 'fp32', 0.1]);
  assert.equal(resolveFitOptions(undefined, { backbone: 'mobilenet_v2' }).preset, 'v1');
  assert.equal(resolveFitOptions('v3', { backbone: 'mobilenet_v2' }).preset, 'v3', 'a named preset applies to any backbone');
});

test('each setting given overrides the preset, one field at a time', () => {
  const r = resolveFitOptions('v2', { preprocess: { crop: 224 }, ratio: 0.25, precision: 'fp32', scoring: { kind: 'knn-mean' } });
  assert.deepEqual(r.preprocess, { resize: 320, crop: 224 }, "v2's resize, the given crop");
  assert.equal(r.ratio, 0.25);
  assert.equal(r.precision, 'fp32');
  assert.deepEqual(r.scoring, { kind: 'knn-mean', k: 3, b: 9, squared: false, reweight: false, sigma: 4 });
});

test('the CLI resolves its flags as the library resolves the same settings', () => {
  const cases: [string[], Parameters<typeof resolveFitOptions>][] = [
    [[], [undefined, {}]],
    [
      ['--preset', 'v2', '--crop', '256'],
      ['v2', { preprocess: { crop: 256 } }],
    ],
    [
      ['--backbone', 'mobilenet_v2'],
      [undefined, { backbone: 'mobilenet_v2' }],
    ],
    [
      ['--preset', 'v1', '--coreset', '0.3', '--resize', '300'],
      ['v1', { ratio: 0.3, preprocess: { resize: 300 } }],
    ],
  ];
  for (const [flags, [preset, o]] of cases) {
    const v = parseCommand(FIT, ['--data', 'd', '--out', 'o', ...flags]).values;
    const lib = resolveFitOptions(preset, o);
    assert.deepEqual(preprocessFlags(v, presetOf(v)), lib.preprocess, flags.join(' '));
    assert.equal(coresetRatio(v), lib.ratio, flags.join(' '));
    assert.equal(presetOf(v), PRESETS[lib.preset]);
  }
});

test('bad settings are UserErrors that carry their key; the CLI tells them with the flag', () => {
  const e = thrown(() => resolveFitOptions('v9'));
  assert.equal(e.message, 'Expected "v1", "v2" or "v3" for preset but received "v9"');
  assert.deepEqual(e.option, { key: 'preset', expected: '"v1", "v2" or "v3"', actual: 'v9' });
  const crop = thrown(() => resolveFitOptions('v1', { preprocess: { resize: 200 } }));
  assert.equal(crop.option?.key, 'crop');
  assert.equal((inFlags(crop, FIT.options) as Error).message, 'Expected a size no larger than the resize (200) for --crop but received 224');
  assert.equal(thrown(() => resolveFitOptions(undefined, { ratio: 0 })).message, 'Expected a ratio in (0, 1] for ratio but received 0');
  // the key, not the message's text, picks the flag: a message of another shape is still told in flags
  const odd = new UserError('the ratio is wrong', { key: 'ratio', expected: 'a ratio in (0, 1]', actual: 2 });
  assert.equal((inFlags(odd, FIT.options) as Error).message, 'Expected a ratio in (0, 1] for --coreset but received 2');
  const plain = new UserError('Expected x for ratio but received y');
  assert.equal(inFlags(plain, FIT.options), plain, 'no key: unchanged');
  assert.equal(invalid('k', 'e', 1).option?.key, 'k');
});

/** The bounds as they were written out before they were declared once: an independent reference. */
const WRITTEN: [NumberSetting, accepted: number[], refused: number[]][] = [
  [RATIO, [1e-9, 0.5, 1], [0, -0.1, 1.0001]],
  [SEED, [0, 2 ** 31 - 1], [-1, 2 ** 31, 0.5]],
  [RESIZE, [16, 4096], [15, 4097, 100.5]],
  [CROP, [16, 4096], [15, 4097]],
  [SIGMA, [0, 64, 0.5], [-0.1, 64.1]],
  [TARGET_FPR, [0.001, 0.999], [0, 1]],
  [BG_MORPH, [0, 255], [-1, 256, 2.5]],
  [BG_SIZE, [1, 255], [0, 256]],
];

test('each bound is the same in the declaration, the CLI flag, the library check and model.json', () => {
  for (const [s, yes, no] of WRITTEN) {
    for (const x of yes) {
      assert.ok(withinBounds(s, x), `${s.key} ${x}`);
      assert.equal(checkNumber(s, x), x);
      if (s !== CROP) assert.equal(parseCommand(FIT, ['--data', 'd', '--out', 'o', `--${s.flag}=${x}`]).values[s.flag as 'seed'], x, `--${s.flag} ${x}`);
    }
    for (const x of no) {
      assert.ok(!withinBounds(s, x), `${s.key} ${x}`);
      assert.deepEqual(thrown(() => checkNumber(s, x)).option, { key: s.key, expected: s.expected, actual: x });
      assert.equal(
        thrown(() => parseCommand(FIT, ['--data', 'd', '--out', 'o', `--${s.flag}=${x}`])).message,
        `Expected ${s.expected} for --${s.flag} but received ${x}`,
      );
    }
  }
  // the library's own checks read the same bounds
  assert.equal(thrown(() => checkRatio(1.5)).option?.key, 'ratio');
  assert.equal(
    thrown(() => validateBackgroundConfig({ ...DEFAULT_BACKGROUND, size: 256 })).message,
    'Expected an integer 1..255 for background.size but received 256',
  );
  assert.equal(thrown(() => validateBackgroundConfig({ ...DEFAULT_BACKGROUND, morph: -1 })).option?.key, 'background.morph');
  // and model.json's schema
  const model = current();
  model.coreset.ratio = 0;
  assert.equal(
    thrown(() => parseModelConfig(JSON.stringify(model), 'model.json')).message,
    'Expected a ratio in (0, 1] for model.json coreset.ratio but received 0',
  );
  const big = current();
  big.background = { ...DEFAULT_BACKGROUND, size: 256 } as never;
  assert.equal(
    thrown(() => parseModelConfig(JSON.stringify(big), 'model.json')).message,
    'Expected an integer 1..255 for model.json background.size but received 256',
  );
});

/** A model.json as fit writes it today (0.4.0), with every optional field a fit or an update can add. */
function current() {
  const H = 'ab'.repeat(32);
  return {
    format: 'patchcore-ts/model@1',
    createdAt: '2026-12-08T00:33:16.216Z',
    tool: { name: 'patchcore-ts', version: '0.4.0' },
    trainingData: { images: 16, sha256: H, method: 'sha256 of sorted "relative/name<TAB>bytes" lines' },
    backbone: { id: 'inception_v3', hash: H, layers: ['mixed2', 'mixed5'], int8: { images: 8, ranges: { x: [-1.5, 2.25] } } },
    preprocess: { resize: 352, crop: 'none', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    background: { range: { lo: [150, 150, 150], hi: [255, 255, 255] }, morph: 5, filter: 'median', size: 11, estimated: 'border', connected: true },
    featureDim: 0,
    inputSize: { width: 352, height: 352 },
    mapStride: 8,
    coreset: { ratio: 0.005, seed: 0, trainPatches: 10000, method: 'exact greedy', radius: 0.553 },
    scoring: { kind: 'neighbourhood', k: 3, b: 9, squared: false, reweight: true, sigma: 4 },
    foreground: {
      requested: 'auto',
      mask: 'pca',
      reason: 'agree',
      close: 1,
      dilate: 1,
      pca: { axis: [0.5, 0.5, 0.5, 0.5], offset: 0.1, cut: 0.2, separation: 0.7, agreement: 0.9, share: 0.4 },
    },
    bank: { file: 'bank-8c1ddb6a2fa35d80.bin', sha256: H, size: 50, dim: 4, b: 9 },
    trainScores: { mean: 5.86, std: 0.45, max: 7.09, n: 2, median: 5.84 },
    threshold: 7.09,
    thresholdInfo: { method: 'conformal', n: 2, date: '2026-12-08T00:33:16.216Z', targetFpr: 0.05, promisedFpr: 0.33, warning: 'few images' },
    pixelThreshold: 6.87,
    pixelThresholdInfo: { method: 'conformal', n: 2, date: '2026-12-08T00:33:16.216Z', targetFpr: 0.05, promisedFpr: 0.33 },
    normalization: { scale: 0.159 },
    leaveOneOut: { files: ['good_1.png', 'good_2.png'], image: [5.5, 7.09], pixel: [6.1, 6.87] },
    parent: 'abc123',
    update: {
      date: 'd',
      added: [{ file: 'new.png', entries: 3 }],
      failed: [{ file: 'bad.png', error: 'unreadable' }],
      radius: 0.553,
      radiusEstimated: false,
      threshold: 're-derived',
    },
    suspects: { alpha: 0.01, bound: 6.57, scored: 2, of: 2, images: [{ file: 'good_2.png', score: 7.09 }], excluded: false },
  };
}

test('a model.json of the current format, every optional field set, loads unchanged', () => {
  const saved = current();
  assert.deepEqual(parseModelConfig(JSON.stringify(saved), 'model.json'), saved);
  for (const kind of ['nearest', 'knn-mean', 'neighbourhood']) {
    const m = current();
    m.scoring.kind = kind;
    assert.equal(parseModelConfig(JSON.stringify(m), 'model.json').scoring.kind, kind);
  }
  for (const requested of ['off', 'auto', 'pca', 'range']) {
    const m = current();
    m.foreground.requested = requested;
    assert.equal(parseModelConfig(JSON.stringify(m), 'model.json').foreground?.requested, requested);
  }
});
