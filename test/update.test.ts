// Adding good images to a fitted model (model/update.ts, memory/cover.ts): the greedy k-center carried
// on covers every new patch within the radius fit recorded (checked by brute force), the re-derived
// threshold and the new images' leave-one-out scores match brute force, versions are kept, a corrupt
// image adds nothing, and a SIGKILL at any moment leaves a model that loads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { promises as fs, existsSync, readdirSync, readFileSync, cpSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { CLI, runCli, tempDir } from './helpers.js';
import { syntheticSample } from '../src/data/synthetic.js';
import { encodePng, loadImage } from '../src/image/load.js';
import { loadBackbone } from '../src/backbone/index.js';
import { PatchCore } from '../src/model/patchcore.js';
import { DEFAULT_SCORING } from '../src/model/config.js';
import { loadModel, versionFile } from '../src/model/store.js';
import { coverageRadius, estimateRadius, extendCover, ortNearest, plainNearest } from '../src/memory/cover.js';
import { plainGreedyCoreset, pickStarts } from '../src/memory/coreset/plain.js';
import { Projector } from '../src/memory/projection.js';
import { PairwiseKnn } from '../src/scoring/pairwise-knn.js';
import { conformalThreshold } from '../src/scoring/decision.js';
import { UserError } from '../src/util/errors.js';
import { FeatureStore } from '../src/memory/index.js';
import { bankFromStore } from '../src/model/bank.js';
import { coverageRadius as radiusAtFit } from '../src/model/update.js';
import { Rng } from '../src/util/rng.js';

const dist = (a: Float32Array, i: number, b: Float32Array, j: number, d: number) => {
  let s = 0;
  for (let c = 0; c < d; c++) s += (a[i * d + c] - b[j * d + c]) ** 2;
  return Math.sqrt(s);
};
/** Brute-force distance from row i of `a` to the nearest of the rows `js` of `b`. */
const nearestOf = (a: Float32Array, i: number, b: Float32Array, js: Iterable<number>, d: number) => {
  let best = Infinity;
  for (const j of js) best = Math.min(best, dist(a, i, b, j, d));
  return best;
};
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Gaussian blobs: `n` rows around `centers` (each row picks one), `dim` wide. */
function blobs(rng: Rng, n: number, centers: Float32Array, k: number, dim: number, spread: number): Float32Array {
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = rng.int(k);
    for (let d = 0; d < dim; d++) out[i * dim + d] = centers[c * dim + d] + spread * rng.normal();
  }
  return out;
}

test('coverage radius (ONNX Runtime) equals brute force; the carried-on greedy covers every new row within it, adding only rows beyond it', async () => {
  const rng = new Rng(3),
    D = 16,
    K = 6;
  const centers = Float32Array.from({ length: 12 * D }, () => 4 * rng.normal());
  const train = blobs(rng, 900, centers, K, D, 1),
    n = 900;
  const sel = plainGreedyCoreset({ data: train, n, dim: D }, 60, pickStarts(n, 0));
  const bank = new Float32Array(sel.length * D);
  sel.forEach((r, j) => bank.set(train.subarray(r * D, (r + 1) * D), j * D));
  const knn = await PairwiseKnn.create(D);
  try {
    const rows = { n, at: (a: number, b: number) => train.subarray(a * D, b * D) };
    const bankM = { data: bank, n: sel.length, dim: D };
    const fast = await coverageRadius(rows, bankM, ortNearest(knn));
    const brute = Math.max(...range(n).map((i) => nearestOf(train, i, bank, range(sel.length), D)));
    assert.ok(Math.abs(fast - brute) <= 1e-4 * brute, `radius ${fast} vs brute force ${brute}`);
    const plainR = await coverageRadius(rows, bankM, plainNearest);
    assert.ok(Math.abs(plainR - brute) <= 1e-6 * brute, `plain radius ${plainR} vs ${brute}`);

    // new rows: half from the training blobs, half from blobs the bank never saw (a drift)
    const m = 400;
    const fresh = new Float32Array(m * D);
    fresh.set(blobs(rng, m / 2, centers, K, D, 1));
    fresh.set(blobs(rng, m / 2, centers.subarray(K * D), 12 - K, D, 1), (m / 2) * D);
    const delta0 = await ortNearest(knn)({ data: fresh, n: m, dim: D }, bankM);
    const plain0 = await plainNearest({ data: fresh, n: m, dim: D }, bankM);
    delta0.forEach((v, i) => assert.ok(Math.abs(v - plain0[i]) <= 1e-4 * (1 + plain0[i])));
    const { added, delta } = extendCover({ data: fresh, n: m, dim: D }, brute, delta0);
    assert.ok(added.length > 0, 'the unseen blobs must add entries');
    const grown = new Float32Array((sel.length + added.length) * D);
    grown.set(bank);
    added.forEach((r, j) => grown.set(fresh.subarray(r * D, (r + 1) * D), (sel.length + j) * D));
    for (let i = 0; i < m; i++) {
      const d = nearestOf(fresh, i, grown, range(sel.length + added.length), D);
      assert.ok(d <= brute * (1 + 1e-5), `row ${i}: ${d} from the grown bank, radius ${brute}`);
      assert.ok(Math.abs(d - delta[i]) <= 1e-4 * (1 + d), `row ${i}: δ ${delta[i]} vs ${d}`);
    }
    // each entry was beyond the radius of everything before it (greedy, no entry wasted)
    added.forEach((r, j) => {
      const before = nearestOf(fresh, r, grown, range(sel.length + j), D);
      assert.ok(before > brute, `entry ${j} was ${before} from the bank, radius ${brute}`);
    });
    // rows on top of the bank add nothing
    const near = Float32Array.from(bank.subarray(0, 20 * D), (v) => v + 1e-3 * rng.normal());
    const nearM = { data: near, n: 20, dim: D };
    assert.equal(extendCover(nearM, brute, await plainNearest(nearM, bankM)).added.length, 0);

    // old models: the smallest distance between two bank rows
    let pair = Infinity;
    for (let i = 0; i < sel.length; i++) for (let j = i + 1; j < sel.length; j++) pair = Math.min(pair, dist(bank, i, bank, j, D));
    assert.ok(Math.abs((await estimateRadius(bank, sel.length, D, knn)) - pair) <= 1e-4 * pair);
    assert.ok(Math.abs((await estimateRadius(bank, sel.length, D, null)) - pair) <= 1e-6 * pair);
  } finally {
    await knn.release();
  }
});

test("fit's recorded radius: every training patch lies within it of the bank, and one lies at it (brute force over the store's projections)", async () => {
  const rng = new Rng(8),
    D = 40;
  const store = new FeatureStore({ seed: 3, inMemory: true });
  for (let i = 0; i < 6; i++)
    await store.append({ gridH: 10, gridW: 10, dim: D, count: 100, data: Float32Array.from({ length: 100 * D }, () => rng.normal()) });
  const fb = await bankFromStore(store, { ratio: 0.05, seed: 0, scoring: DEFAULT_SCORING });
  const radius = await radiusAtFit(store, fb.origin!);
  const z = store.projected,
    bz = store.projectedRows(fb.origin!);
  const d = range(store.count).map((i) => nearestOf(z, i, bz, range(fb.origin!.length), 128));
  assert.ok(Math.abs(Math.max(...d) - radius) <= 1e-4 * radius, `radius ${radius} vs brute force ${Math.max(...d)}`);
  await fb.nn.release();
  store.close();
});

const SIZE = 160;
const opts = { preprocess: { resize: SIZE, crop: SIZE }, background: null, featureDim: 0, ratio: 0.1, seed: 0, scoring: DEFAULT_SCORING };
const ready = (async () => {
  const dir = tempDir('pc-update-');
  const write = async (name: string, seed: number) => {
    const f = path.join(dir, name);
    await fs.writeFile(f, await encodePng(syntheticSample(seed, 'good', SIZE).image));
    return f;
  };
  const train = await Promise.all(range(10).map((i) => write(`train_${i}.png`, 500 + i)));
  const fresh = await Promise.all(range(3).map((i) => write(`new_${i}.png`, 900 + i)));
  const corrupt = path.join(dir, 'corrupt.png');
  await fs.writeFile(corrupt, 'not an image');
  const model = await PatchCore.fit(train, await loadBackbone('inception_v3'), opts);
  const modelDir = path.join(dir, 'model');
  await model.save(modelDir);
  return { dir, train, fresh, corrupt, modelDir };
})();

test('update: every new patch within the recorded radius of the new bank, leave-one-out scores and threshold equal brute force', async (t) => {
  const { train, fresh, corrupt, modelDir } = await ready;
  const model = await PatchCore.open(modelDir);
  const { config } = model;
  assert.ok(config.coreset.radius! > 0 && config.leaveOneOut!.image.length === 10);
  const r = await model.update([...fresh, corrupt], { names: ['a.png', 'b.png', 'c.png', 'corrupt.png'] });
  assert.deepEqual(
    r.failed.map((f) => f.file),
    ['corrupt.png'],
  );
  const next = r.model!;
  const bank = next.fitted.bank,
    old = model.fitted.bank,
    D = bank.dim;
  assert.equal(bank.size, old.size + r.added);
  assert.deepEqual(bank.data.subarray(0, old.size * D), old.data, 'the old entries stay as they were');
  assert.equal(next.config.parent, model.modelId);
  assert.equal(next.config.coreset.radius, config.coreset.radius);

  const proj = new Projector(D, 128, config.coreset.seed);
  const bankZ = proj.project(bank.data, bank.size);
  for (const [i, f] of fresh.entries()) {
    const e = await model.extractor.extract(await loadImage(f));
    const z = proj.project(e.features.data, e.features.count);
    for (let p = 0; p < e.features.count; p++) {
      const d = nearestOf(z, p, bankZ, range(bank.size), 128);
      assert.ok(d <= config.coreset.radius! * 1.001, `image ${i} patch ${p}: ${d} from the new bank, radius ${config.coreset.radius}`);
    }
    // leave-one-out: the nearest score against the new bank less this image's own new entries
    const own = new Set<number>();
    for (let m = old.size; m < bank.size; m++) for (let p = 0; p < e.features.count; p++) if (dist(bank.data, m, e.features.data, p, D) === 0) own.add(m);
    assert.equal(own.size, r.images[i].entries);
    const allowed = range(bank.size).filter((m) => !own.has(m));
    const brute = Math.max(...range(e.features.count).map((p) => nearestOf(e.features.data, p, bank.data, allowed, D)));
    assert.ok(Math.abs(r.images[i].leaveOneOut! - brute) <= 1e-4 * brute, `image ${i}: ${r.images[i].leaveOneOut} vs ${brute}`);
  }
  const loo = next.config.leaveOneOut!;
  assert.deepEqual(loo.image.slice(0, 10), config.leaveOneOut!.image);
  assert.deepEqual(
    loo.image.slice(10),
    r.images.map((x) => x.leaveOneOut),
  );
  assert.deepEqual(loo.files.slice(10), ['a.png', 'b.png', 'c.png']);
  assert.equal(next.threshold, conformalThreshold(loo.image, 0.05).value);
  // an added image now scores as a training image does against its own bank, and lower than before
  const inSample = Math.max(...(await Promise.all(train.map(async (f) => (await model.predict(await loadImage(f))).score))));
  for (const [i, f] of fresh.entries()) {
    const s = (await next.predict(await loadImage(f))).score;
    t.diagnostic(`image ${i}: ${s.toFixed(3)} after the update, ${r.images[i].score.toFixed(3)} before; training images in sample ≤ ${inSample.toFixed(3)}`);
    assert.ok(
      s < r.images[i].score && s <= inSample * 1.05,
      `image ${i}: ${s} after the update, ${r.images[i].score} before, training in sample ≤ ${inSample}`,
    );
  }
});

test('update saved in place keeps the old version loadable; a dry run writes nothing; an all-corrupt update leaves the model byte for byte', async () => {
  const { dir, fresh, corrupt, modelDir } = await ready;
  const copy = path.join(dir, 'inplace');
  cpSync(modelDir, copy, { recursive: true });
  const before = readdirSync(copy).sort();
  const model = await PatchCore.open(copy);
  const dry = await model.update(fresh, { dryRun: true });
  assert.equal(dry.model, undefined);
  assert.ok(dry.added > 0);
  assert.deepEqual(readdirSync(copy).sort(), before);

  const bytes = readFileSync(path.join(copy, 'model.json'));
  await assert.rejects(model.update([corrupt]), UserError);
  assert.deepEqual(readFileSync(path.join(copy, 'model.json')), bytes);

  const r = await model.update(fresh);
  assert.equal(r.added, dry.added, 'the dry run said what the update adds');
  const kept = await model.update(fresh, { keepThreshold: true });
  assert.equal(kept.model!.threshold, model.threshold);
  assert.equal(kept.model!.config.bank.size, r.model!.config.bank.size);
  assert.deepEqual(kept.model!.config.leaveOneOut, r.model!.config.leaveOneOut);
  await r.model!.saveOverParent(copy);
  const now = await PatchCore.open(copy);
  assert.equal(now.config.parent, model.modelId);
  assert.equal(now.config.bank.size, model.config.bank.size + r.added);
  const keptFile = versionFile(copy, model.modelId);
  assert.ok(existsSync(keptFile) && existsSync(path.join(copy, model.config.bank.file)));
  const back = path.join(dir, 'back');
  cpSync(copy, back, { recursive: true });
  cpSync(keptFile, path.join(back, 'model.json'));
  assert.equal((await PatchCore.open(back)).modelId, model.modelId, 'the kept version restores the parent exactly');
  // a stale object cannot overwrite a directory that moved on
  await assert.rejects(r.model!.saveOverParent(copy), /now holds model/);
});

test('CLI update: bad input is one line and exit 2; a corrupt image among good ones is listed, exit 3', async () => {
  const { dir, fresh, corrupt, modelDir } = await ready;
  const copy = path.join(dir, 'cli');
  cpSync(modelDir, copy, { recursive: true });
  for (const args of [
    ['--model', path.join(dir, 'none'), '--add', fresh[0]],
    ['--model', copy, '--add', ','],
    ['--model', copy, '--add', path.join(dir, 'missing.png')],
  ]) {
    const r = runCli('update', ...args, '--quiet');
    assert.equal(r.code, 2, r.err);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
    assert.match(r.err, /^patchcore: error: /);
  }
  const r = runCli('update', '--model', copy, '--add', `${fresh[2]},${corrupt}`, '--quiet');
  assert.equal(r.code, 3, r.err);
  assert.match(r.out, /corrupt\.png: not added: cannot read image/);
  assert.match(r.out, /new_2\.png: distance to bank [\d.]+, score [\d.]+, \d+ entr/);
  assert.equal((await loadModel(copy)).config.update!.failed[0].file, 'corrupt.png');
});

test('SIGKILL at any moment of an update leaves a model that loads, as the old or the new version', async (t) => {
  const { dir, fresh, modelDir } = await ready;
  const run = (target: string) => spawn(process.execPath, [CLI, 'update', '--model', target, '--add', fresh.join(','), '--quiet'], { stdio: 'ignore' });
  const full = path.join(dir, 'kill-full');
  cpSync(modelDir, full, { recursive: true });
  const t0 = Date.now();
  const code = await new Promise((res) => run(full).on('exit', res));
  const T = Date.now() - t0;
  assert.equal(code, 0);
  const oldId = (await PatchCore.open(modelDir)).modelId,
    grown = (await loadModel(full)).config.bank.size;
  let updated = 0;
  for (const f of [0.6, 0.9, 0.97, 1.0]) {
    const target = path.join(dir, `kill-${f}`);
    rmSync(target, { recursive: true, force: true });
    cpSync(modelDir, target, { recursive: true });
    const child = run(target);
    const exited = new Promise((res) => child.on('exit', res)); // it may finish before the kill
    await new Promise((res) => setTimeout(res, f * T));
    child.kill('SIGKILL');
    await exited;
    const m = await PatchCore.open(target);
    const isNew = m.config.parent === oldId && m.config.bank.size === grown;
    assert.ok(m.modelId === oldId || isNew, `killed at ${f}: model ${m.modelId} is neither version`);
    if (isNew) updated++;
  }
  t.diagnostic(`update took ${T} ms; ${updated} came after the new version was in place (4 kills)`);
});
