// The CLI as a user meets it: bad input gets one clear line and a non-zero exit, never a stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { CLI, SHARED, runCli, tempDir } from './helpers.js';
import { existsSync } from 'node:fs';
import * as os from 'node:os';
import { writeSyntheticDataset } from '../src/data/synthetic.js';

// A missing prerequisite skips locally; under CI=true the test runs and fails on it with the reason.
const CI = process.env.CI === 'true';

const run = runCli;

/** A failing run: non-zero exit, one line on stderr that mentions `needle`, no stack trace. */
function assertUserError(r: ReturnType<typeof run>, needle: string | RegExp) {
  assert.notEqual(r.code, 0, `expected failure, got exit 0: ${r.out}`);
  const lines = r.err
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('warning:'));
  assert.equal(lines.length, 1, `expected one line, got:\n${r.err}`);
  assert.match(lines[0], /^patchcore: error: /);
  assert.doesNotMatch(r.err, /\n\s+at /);
  assert.doesNotMatch(r.err + r.out, /\bNaN\b/); // a word: random temp-dir names can contain the letters
  if (typeof needle === 'string') assert.ok(lines[0].includes(needle), `'${lines[0]}' does not mention '${needle}'`);
  else assert.match(lines[0], needle);
}

const root = tempDir();
const data = path.join(root, 'data');
const model = path.join(root, 'model');
const ready = (async () => {
  await writeSyntheticDataset(data, { size: 224, train: 8, testGood: 1, testPerDefect: 1 });
  const r = run('fit', '--data', data, '--out', model, '--coreset', '0.2', '--quiet');
  assert.equal(r.code, 0, r.err);
})();

test('fit and predict work from the command line', async () => {
  await ready;
  const img = path.join(data, 'test', 'missing', '000.png');
  const out = path.join(root, 'heat');
  const r = run('predict', '--model', model, img, '--out', out, '--json');
  assert.equal(r.code, 0, r.err);
  const rows = JSON.parse(r.out);
  assert.equal(rows.length, 1);
  assert.ok(Number.isFinite(rows[0].score));
  assert.ok((await fs.stat(rows[0].heatmap)).size > 1000);
});

test('missing folder and empty train set', async () => {
  assertUserError(run('fit', '--data', path.join(root, 'nope'), '--out', path.join(root, 'm2')), 'nope');
  const empty = tempDir();
  assertUserError(run('fit', '--data', empty, '--out', path.join(root, 'm2')), 'no training images');
  // one image: the threshold has no other image to score it against
  await ready;
  const [first] = await fs.readdir(path.join(data, 'train', 'good'));
  await fs.copyFile(path.join(data, 'train', 'good', first), path.join(empty, 'only.png'));
  assertUserError(run('fit', '--data', empty, '--out', path.join(root, 'm2')), 'Expected a folder with at least 2 good images for --data but received 1 image');
  assert.equal(existsSync(path.join(root, 'm2')), false);
});

test('corrupt, truncated and non-image files', async () => {
  await ready;
  const dir = tempDir();
  const png = await fs.readFile(path.join(data, 'train', 'good', '000.png'));
  await fs.writeFile(path.join(dir, 'truncated.png'), png.subarray(0, png.length >> 1));
  await fs.writeFile(path.join(dir, 'text.png'), 'this is not an image');
  // predict reports each unreadable image as a failed row (exit 3), never a stack or a NaN
  for (const f of ['truncated.png', 'text.png']) {
    const r = run('predict', '--model', model, path.join(dir, f));
    assert.equal(r.code, 3, r.err);
    assert.match(r.out, new RegExp(`${f}\tERROR\t.*${f}`));
    assert.equal(r.err.trim(), 'patchcore predict: 0 scored (0 anomalous), 1 failed (exit 3)');
    assert.doesNotMatch(r.err + r.out, /\n\s+at |NaN/);
  }
  // a training folder containing a broken image names that file
  const bad = tempDir();
  await fs.copyFile(path.join(data, 'train', 'good', '000.png'), path.join(bad, 'a.png'));
  await fs.writeFile(path.join(bad, 'b.png'), png.subarray(0, 100));
  assertUserError(run('fit', '--data', bad, '--out', path.join(root, 'm3')), 'b.png');
});

test('unknown backbone and out-of-range flags', async () => {
  assertUserError(run('fit', '--data', data, '--out', path.join(root, 'm4'), '--backbone', 'vgg99'), 'vgg99');
  assertUserError(run('fit', '--data', data, '--out', path.join(root, 'm4'), '--coreset', '0'), '--coreset');
  assertUserError(run('fit', '--data', data, '--out', path.join(root, 'm4'), '--coreset', '1.5'), '--coreset');
  assertUserError(run('fit', '--data', data, '--out', path.join(root, 'm4'), '--bg-filter', 'median', '--bg-size', '14'), '--bg-size');
  assertUserError(run('fit', '--data', data, '--out', path.join(root, 'm4'), '--device', 'tpu'), '--device');
  assertUserError(run('fit', '--bogus'), 'bogus');
  assertUserError(run('frobnicate'), 'frobnicate');
});

test('bad model directories: missing, other version, checksum mismatch', async () => {
  await ready;
  const img = path.join(data, 'test', 'good', '000.png');
  assertUserError(run('predict', '--model', path.join(root, 'none'), img), 'model.json');
  const copy = async (name: string) => {
    const d = path.join(root, name);
    await fs.cp(model, d, { recursive: true });
    return d;
  };
  const old = await copy('m-old');
  const cfg = JSON.parse(await fs.readFile(path.join(old, 'model.json'), 'utf8'));
  await fs.writeFile(path.join(old, 'model.json'), JSON.stringify({ ...cfg, format: 'patchcore-ts/model@0' }));
  assertUserError(run('predict', '--model', old, img), 'format');
  const bad = await copy('m-bad');
  const bank = path.join(bad, cfg.bank.file);
  const bytes = await fs.readFile(bank);
  bytes[10] ^= 0xff;
  await fs.writeFile(bank, bytes);
  assertUserError(run('predict', '--model', bad, img), 'checksum');
});

test('a failed fit leaves the existing model intact', async () => {
  await ready;
  const before = await fs.readFile(path.join(model, 'model.json'), 'utf8');
  const bad = tempDir();
  const [first] = await fs.readdir(path.join(data, 'train', 'good'));
  await fs.copyFile(path.join(data, 'train', 'good', first), path.join(bad, 'a.png'));
  await fs.writeFile(path.join(bad, 'x.png'), 'broken');
  assertUserError(run('fit', '--data', bad, '--out', model), 'x.png');
  assert.equal(await fs.readFile(path.join(model, 'model.json'), 'utf8'), before);
  const r = run('predict', '--model', model, path.join(data, 'test', 'good', '000.png'));
  assert.equal(r.code, 0, r.err);
});

const userOnnx = path.join(SHARED, 'models', 'mobilenetv2-12-int8.onnx');
test('a model fitted on a user .onnx backbone reloads from another directory', {
  skip: !existsSync(userOnnx) && !CI && `${userOnnx} not found (../shared)`,
}, async () => {
  assert.ok(existsSync(userOnnx), `${userOnnx} not found (../shared)`);
  const onnx = userOnnx;
  await ready;
  const m = path.join(root, 'm-onnx');
  const fit = run('fit', '--data', data, '--out', m, '--backbone', path.relative(process.cwd(), onnx), '--layers', '365_quantized,426_quantized', '--quiet');
  assert.equal(fit.code, 0, fit.err);
  const r = spawnSync(
    process.execPath,
    [CLI, 'predict', '--model', m, '--json', path.join(data, 'test', 'missing', '000.png'), path.join(data, 'test', 'good', '000.png')],
    { encoding: 'utf8', cwd: os.tmpdir() },
  );
  assert.equal(r.status, 0, r.stderr);
  const [bad, good] = JSON.parse(r.stdout);
  assert.ok(bad.score > good.score, `missing piece ${bad.score} vs good ${good.score}`);
});

test('--device cuda without the CUDA build fails with one clear line (with it, scores)', async () => {
  await ready;
  const r = run('predict', '--model', model, '--device', 'cuda', path.join(data, 'test', 'good', '000.png'), '--json');
  // never a skip: where a CUDA execution provider is installed the same call must score instead
  if (r.code === 0) assert.ok(Number.isFinite(JSON.parse(r.out)[0].score), r.out);
  else assertUserError(r, '--device cuda');
});

test('a model fitted with --weights FILE predicts later without the file (graph found by its hash)', async () => {
  await ready;
  const { randomResNetWeights } = await import('../src/backbone/resnet/random.js');
  const { RESNET_CONFIGS } = await import('../src/backbone/resnet/config.js');
  const { writeSafetensors } = await import('../src/backbone/weights/safetensors.js');
  const weights = path.join(root, 'r18.safetensors');
  await fs.writeFile(weights, writeSafetensors(randomResNetWeights(RESNET_CONFIGS.resnet18, 3)));
  const m = path.join(root, 'm-r18');
  const fit = run('fit', '--data', data, '--out', m, '--backbone', 'resnet18', '--weights', weights, '--quiet');
  assert.equal(fit.code, 0, fit.err);
  await fs.rm(weights);
  const r = run('predict', '--model', m, path.join(data, 'test', 'good', '000.png'));
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /000\.png\t\d+\.\d{4}\t\d\.\d{3}\t(good|ANOMALOUS)/);
});

test('tampered model.json: each names the field, exit 2, one line', async () => {
  await ready;
  const img = path.join(data, 'test', 'good', '000.png');
  const cfg = JSON.parse(await fs.readFile(path.join(model, 'model.json'), 'utf8'));
  assert.equal(cfg.tool.name, 'patchcore-ts');
  assert.match(cfg.tool.version, /^\d+\.\d+\.\d+/);
  assert.equal(cfg.trainingData.images, 8);
  assert.match(cfg.trainingData.sha256, /^[0-9a-f]{64}$/);
  const tampered = async (name: string, edit: (c: Record<string, unknown>) => void) => {
    const d = path.join(root, name);
    await fs.cp(model, d, { recursive: true });
    const c = structuredClone(cfg);
    edit(c);
    await fs.writeFile(path.join(d, 'model.json'), JSON.stringify(c));
    return run('predict', '--model', d, img);
  };
  const noBank = await tampered('t-nobank', (c) => delete c.bank);
  assertUserError(noBank, /Expected an object .* for \S*model\.json bank but received undefined/);
  assert.equal(noBank.code, 2);
  const big = await tampered('t-big', (c) => ((c.preprocess as Record<string, unknown>).resize = 'big'));
  assertUserError(big, /for \S*model\.json preprocess\.resize but received "big"/);
  assert.equal(big.code, 2);
  const outside = await tampered('t-escape', (c) => ((c.bank as Record<string, unknown>).file = '../../etc/passwd'));
  assertUserError(outside, /Expected a plain file name in the model directory for \S*model\.json bank\.file but received "\.\.\/\.\.\/etc\/passwd"/);
  assert.equal(outside.code, 2);
  // a newer writer's extra field is kept, not refused
  assert.equal((await tampered('t-extra', (c) => (c.addedByANewerVersion = { any: 'thing' }))).code, 0);
});

test('paths: --out under a file, a directory as an image, --onnx missing, --model with --onnx', async () => {
  await ready;
  const img = path.join(data, 'test', 'good', '000.png');
  const under = run('predict', '--model', model, img, '--out', path.join(img, 'sub'));
  assertUserError(under, /--out .*000\.png is a file/);
  assert.equal(under.code, 2);
  // predict reads folders as inputs; where one image is expected, a folder is named as such
  const dir = run('preprocess', path.join(data, 'test'), '--out', path.join(root, 'fig.png'));
  assertUserError(dir, /test: it is a directory, not an image file/);
  assert.equal(dir.code, 2);
  assertUserError(run('predict', '--model', model, tempDir()), /folder has no images/);
  assertUserError(run('predict', '--onnx', path.join(root, 'nothere.onnx'), img), /nothere\.onnx: no such file/);
  assertUserError(run('predict', '--model', model, '--onnx', path.join(root, 'x.onnx'), img), /give --model or --onnx, not both/);
});

test('flags are checked before any work: --runs 0 with a missing dataset, --seed -1, a typo', () => {
  assertUserError(run('eval', '--data', path.join(root, 'nope'), '--runs', '0'), 'Expected an integer 1..100 for --runs but received 0');
  assertUserError(run('fit', '--data', data, '--out', path.join(root, 'm5'), '--seed', '-1'), 'Expected a non-negative integer for --seed but received -1');
  assertUserError(
    run('fit', '--data', data, '--out', path.join(root, 'm5'), '--precision', 'int4'),
    'Expected "fp32" or "int8" for --precision but received "int4"',
  );
  assertUserError(run('eval', '--data', data, '--corset', '0.1'), 'did you mean --coreset?');
});
