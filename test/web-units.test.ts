// The browser adapters checked in Node against what they stand in for: node:path, node:crypto,
// an fs file, sharp's resize; the model .zip that the page downloads, read by loadModel; the CLI's
// bad input for `web` and `serve --studio`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import nodePath from 'node:path';
import { zipSync } from 'fflate';
import * as shimPath from '../src/web/shims/path.js';
import * as memfs from '../src/web/shims/memfs.js';
import { createHash as shimHash } from '../src/web/shims/crypto.js';
import { loadModel, saveConfig } from '../src/model/store.js';
import { Rng } from '../src/util/rng.js';
import { CLI, tempDir } from './helpers.js';
import { fitSynthetic } from './fit-fixture.js';

test('path shim = node:path.posix', () => {
  const cases = ['/a/b/../c', 'a//b/./c/', '/', '.', '../x/y', '/tmp/patchcore-features-1/rows.f32', 'model.json', '/a/b.tar.gz'];
  for (const p of cases) {
    const pairs = [
      ['normalize', shimPath.normalize, nodePath.posix.normalize],
      ['dirname', shimPath.dirname, nodePath.posix.dirname],
      ['basename', shimPath.basename, nodePath.posix.basename],
      ['extname', shimPath.extname, nodePath.posix.extname],
    ] as const;
    for (const [f, shim, node] of pairs) assert.equal(shim(p), node(p), `${f}(${p})`);
    assert.equal(shimPath.join('/models/1', p), nodePath.posix.join('/models/1', p), `join(${p})`);
  }
});

test('crypto shim sha256 = node:crypto', () => {
  const rng = new Rng(3);
  for (const n of [0, 1, 63, 64, 65, 100_000]) {
    const bytes = Uint8Array.from({ length: n }, () => rng.int(256));
    assert.equal(shimHash('sha256').update(bytes).digest('hex'), createHash('sha256').update(bytes).digest('hex'));
  }
});

test('memfs: positioned writes and reads as a real file, growth, rename and removal', async () => {
  const rng = new Rng(4);
  const dir = memfs.mkdtempSync('/tmp/t-');
  const fd = memfs.openSync(`${dir}/rows.f32`, 'w+');
  const ref = new Uint8Array(50_000);
  for (let k = 0; k < 40; k++) {
    const len = 1 + rng.int(3000),
      at = rng.int(ref.length - len);
    const chunk = Uint8Array.from({ length: len }, () => rng.int(256));
    ref.set(chunk, at);
    assert.equal(memfs.writeSync(fd, chunk, 0, len, at), len);
  }
  const end = Math.max(...[...ref.keys()].filter((i) => ref[i] !== 0)) + 1;
  const back = new Uint8Array(end);
  assert.equal(memfs.readSync(fd, back, 0, end, 0), end);
  assert.deepEqual(back, ref.subarray(0, end));
  assert.equal(memfs.readSync(fd, new Uint8Array(10), 0, 10, 1e6), 0, 'reading past the end gives 0 bytes');
  memfs.closeSync(fd);
  await memfs.promises.writeFile('/m/model.json.tmp', '{"a":1}');
  await memfs.promises.rename('/m/model.json.tmp', '/m/model.json');
  assert.equal(await memfs.promises.readFile('/m/model.json', 'utf8'), '{"a":1}');
  await assert.rejects(memfs.promises.readFile('/m/model.json.tmp'), /ENOENT/);
  memfs.rmSync(dir);
  assert.equal(memfs.existsSync(`${dir}/rows.f32`), false);
});

test('loadModel reads a model .zip (the page download) as the directory, and rejects a broken one', async () => {
  const { model } = await fitSynthetic({ train: 4, ratio: 0.1 });
  const dir = tempDir('pc-zip-');
  await model.save(dir);
  const files = Object.fromEntries(
    await Promise.all((await fs.readdir(dir)).map(async (f) => [f, new Uint8Array(await fs.readFile(nodePath.join(dir, f)))] as const)),
  );
  const zip = nodePath.join(dir, 'model.zip');
  await fs.writeFile(zip, zipSync(files, { level: 0 }));
  const a = await loadModel(dir),
    b = await loadModel(zip);
  assert.deepEqual(b.config, a.config);
  assert.deepEqual(b.bank.data, a.bank.data);
  await assert.rejects(saveConfig(zip, b.config), /a zipped model is read-only/);
  await fs.writeFile(zip, new Uint8Array([80, 75, 3, 4, 1, 2, 3]));
  await assert.rejects(loadModel(zip), /cannot read the zip file/);
  const onlyJson = nodePath.join(dir, 'only-json.zip');
  await fs.writeFile(onlyJson, zipSync({ 'model.json': files['model.json'] }));
  await assert.rejects(loadModel(onlyJson), /bank file .* is missing/);
});

test('web and serve --studio: bad input is one line and exit 2', async () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  const noOut = run('web');
  assert.equal(noOut.status, 2);
  assert.match(noOut.stderr, /^patchcore: error: .*--out/);
  const badBackbone = run('web', '--out', tempDir(), '--backbone', 'nope');
  assert.equal(badBackbone.status, 2);
  assert.equal(badBackbone.stderr.trim().split('\n').length, 1);
  const { loadSite } = await import('../src/web/site-files.js');
  assert.throws(() => loadSite(nodePath.join(tempDir(), 'nope')), /^UserError: Expected a folder written by 'patchcore web --out DIR' for studio but received/);
  assert.throws(() => loadSite(tempDir()), /with index\.html/);
});

test('the page names out-of-memory failures and passes other errors through', async () => {
  const { describe } = await import('../src/web/failure.js');
  assert.match(describe(new RangeError('Array buffer allocation failed')), /^out of memory in this tab .*at most 200/);
  assert.match(describe(new Error('failed to allocate a buffer of size 123')), /^out of memory/);
  assert.equal(describe(new Error('no model: fit one or open one first')), 'no model: fit one or open one first');
});

test('the bundler swaps Node modules for the browser ones; an unforeseen built-in binds and throws only when called', async () => {
  const esbuild = await import('esbuild');
  const { browserAdapters } = await import('../src/web/build.js');
  const out = await esbuild.build({
    stdin: {
      contents: `import { monitorEventLoopDelay } from 'node:perf_hooks'; import fs from 'node:fs'; import * as ort from 'onnxruntime-node';
        export const probe = () => { try { monitorEventLoopDelay(); return 'no throw'; } catch (e) { return e.message; } };
        export const memfs = typeof fs.mkdtempSync; export const web = typeof ort.InferenceSession;`,
      resolveDir: nodePath.join(process.cwd(), 'dist', 'src', 'web'),
    },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    plugins: [browserAdapters],
    logLevel: 'silent',
  });
  const code = out.outputFiles[0].text;
  assert.match(code, /ENOENT: no such file or directory/, 'node:fs is the in-memory file system');
  assert.match(code, /onnxruntime-web|ort-wasm/, 'onnxruntime-node is onnxruntime-web');
  assert.match(code, /node:perf_hooks is not available in the browser page/);
  assert.doesNotMatch(code, /from ['"]node:/, 'no Node import left');
});
