// The browser studio end to end, in headless Chromium with every request outside the page's own
// origin aborted: ?selftest; fit and score in the page; the downloaded model scored by
// `patchcore predict`; a CLI-fitted model opened in the page. Page and Node scores agree to 1e-4,
// on images that need resizing (both hosts resize with image/resize.ts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { CHROMIUM_ARGS, CLI, tempDir } from './helpers.js';
import { writeSyntheticDataset } from '../src/data/synthetic.js';
import { loadBackbone } from '../src/backbone/index.js';
import { buildSite } from '../src/web/build.js';
import { PatchCore } from '../src/model/patchcore.js';
import { startServer } from './server-fixture.js';
import { loadSite } from '../src/web/site-files.js';
import http from 'node:http';
import type { Browser, Page } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// under CI a missing Chromium fails the tests instead of skipping them
const skip = existsSync(CHROMIUM) || process.env.CI === 'true' ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
// mobilenet_v2 keeps the page's fits fast; the page code is the same for every backbone
const BACKBONE = 'mobilenet_v2';
const TOL = 1e-4;

let root: string, data: string, cliModel: string, url: string, defaultUrl: string, plainUrl: string, browser: Browser;
const closers: (() => Promise<unknown>)[] = [];
const external: string[] = [];

function cli(...args: string[]): string {
  return execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
}
function cliScores(model: string, files: string[]): Map<string, number> {
  const rows = JSON.parse(cli('predict', '--model', model, '--json', ...files)) as { file: string; score: number }[];
  return new Map(rows.map((r) => [path.basename(r.file), r.score]));
}
function testImages(): string[] {
  const dir = path.join(data, 'test');
  return readdirSync(dir)
    .flatMap((k) => readdirSync(path.join(dir, k)).map((f) => path.join(dir, k, f)))
    .sort();
}

/** A page on the studio with every request outside its origin aborted (and recorded). */
async function studio(query = '', base = url, on: Browser = browser): Promise<Page> {
  const page = await on.newPage({ viewport: { width: 1100, height: 900 }, acceptDownloads: true });
  const origin = new URL(base).origin;
  await page.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith(origin + '/') || u.startsWith('blob:') || u.startsWith('data:')) return route.continue();
    external.push(u);
    return route.abort();
  });
  page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
  await page.goto(`${base}/studio/${query}`);
  return page;
}

/** Score `files` in the page; name -> score. Test images are named uniquely by their folder. */
async function pageScores(page: Page, files: string[]): Promise<Map<string, number>> {
  const before = await page.locator('.card[data-ready="1"]').count();
  await page.setInputFiles('#test-files', files);
  await page.waitForFunction((n) => document.querySelectorAll('.card[data-ready="1"]').length === n, before + files.length, { timeout: 120_000 });
  const cards = await page
    .locator('.card[data-ready="1"]')
    .evaluateAll((els) => els.map((e) => [(e as HTMLElement).dataset.name!, Number((e as HTMLElement).dataset.score)] as const));
  return new Map(cards.slice(0, files.length));
}

function assertSameScores(page: Map<string, number>, node: Map<string, number>): number {
  assert.equal(page.size, node.size);
  let worst = 0;
  for (const [name, s] of node) {
    const p = page.get(name);
    assert.ok(p !== undefined, `page has no score for ${name}`);
    worst = Math.max(worst, Math.abs(p - s));
    assert.ok(Math.abs(p - s) <= TOL, `${name}: page ${p} vs node ${s}`);
  }
  return worst;
}

before(async () => {
  if (skip) return;
  root = tempDir('pc-web-');
  // distinct file names across test folders, so a page card names its image
  // 300 px: every image is resized (to 256) before the crop, so the one shared resize is checked too
  data = await writeSyntheticDataset(path.join(root, 'data'), { train: 8, testGood: 2, testPerDefect: 1, size: 300 });
  for (const k of readdirSync(path.join(data, 'test'))) {
    const dir = path.join(data, 'test', k);
    for (const f of readdirSync(dir)) execFileSync('mv', [path.join(dir, f), path.join(dir, `${k}-${f}`)]);
  }
  cliModel = path.join(root, 'cli-model');
  cli('fit', '--data', data, '--out', cliModel, '--backbone', BACKBONE, '--coreset', '0.1', '--quiet');
  const model = await PatchCore.open(cliModel);
  const serveSite = async (backbone: string) => {
    const site = path.join(root, `site-${backbone}`);
    await buildSite({ out: site, backbone: await loadBackbone(backbone) });
    const server = await startServer({ model, studio: site });
    closers.push(() => server.app.close());
    return server.url;
  };
  url = await serveSite(BACKBONE);
  // any static host: the same files with no special headers (not cross-origin isolated: ORT on one thread)
  const files = loadSite(path.join(root, `site-${BACKBONE}`));
  const plain = http.createServer((req, res) => {
    const f = files.get(new URL(req.url ?? '/', 'http://x').pathname.replace(/^\/studio/, ''));
    if (!f) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': f.type }).end(f.body);
  });
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  plainUrl = `http://127.0.0.1:${(plain.address() as { port: number }).port}`;
  closers.push(() => new Promise((r) => plain.close(r)));
  defaultUrl = await serveSite('inception_v3'); // what 'patchcore web' writes by default
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  for (const close of closers) await close();
});

test('?selftest fits and scores the synthetic set in the default page (inception_v3), offline', { skip, timeout: 300_000 }, async () => {
  const page = await studio('?selftest', defaultUrl);
  await page.waitForFunction(() => document.title.startsWith('selftest:'), null, { timeout: 280_000 });
  const title = await page.title();
  assert.match(title, /^selftest: ok auroc=(0\.9\d*|1\.0+) /, title);
  process.stdout.write(`# ${title}\n`);
  mkdirSync('test-artifacts', { recursive: true });
  await page.screenshot({ path: path.join('test-artifacts', 'studio-selftest.png'), fullPage: true });
  assert.deepEqual(external, []);
  await page.close();
});

test('fit in the page, download the model: patchcore predict reads the zip and gives the page scores', { skip, timeout: 300_000 }, async () => {
  const page = await studio();
  await page.waitForFunction(() => !!document.querySelector('#limits')?.textContent);
  // the settings it will fit with, before any fit
  assert.match(
    (await page.textContent('#settings')) ?? '',
    /^Fits with: backbone mobilenet_v2; images resized to 256 px on the shorter side, then centre-cropped to 224×224 px \(outside the crop is not inspected\)/,
  );
  // more images than the page accepts: one clear message, and the page stays usable
  const many = tempDir('pc-web-many-');
  const tooMany = Array.from({ length: 201 }, (_, i) => path.join(many, `${i}.png`));
  for (const f of tooMany) writeFileSync(f, 'not decoded: the count is checked first');
  await page.setInputFiles('#train-files', tooMany);
  await page.click('#fit');
  await page.waitForFunction(() => !!document.querySelector('#error')?.textContent);
  assert.match((await page.textContent('#error')) ?? '', /201 training images: the page accepts at most 200/);
  const train = readdirSync(path.join(data, 'train', 'good')).map((f) => path.join(data, 'train', 'good', f));
  await page.setInputFiles('#train-files', train);
  await page.fill('#ratio', '0.25'); // not the CLI model's 0.1: a model of the page's own
  await page.click('#fit');
  // from the click on, the bar moves or fills and says which stage runs: never empty and silent
  const bar = await page.evaluate(() => {
    const p = document.querySelector('#progress') as HTMLProgressElement;
    return { indeterminate: p.getAttribute('value') === null, value: p.value, text: document.querySelector('#eta')?.textContent ?? '' };
  });
  assert.ok(bar.indeterminate || bar.value > 0, `progress bar empty at the start: ${JSON.stringify(bar)}`);
  assert.match(bar.text, /^(starting: loading the backbone and 8 good images|reading the good images \d)/);
  await page.waitForFunction(() => document.querySelector('#model')?.textContent?.startsWith('fitted in the page'), null, { timeout: 240_000 });
  assert.equal(await page.textContent('#error'), '', "the failed fit's error is gone after the fit that worked");
  // 8 good images cannot promise 5 in 100: model.json's warning, said plainly
  assert.equal(await page.isVisible('#threshold-warning'), true);
  assert.match(
    (await page.textContent('#threshold-warning')) ?? '',
    /^Too few good images for the false-alarm rate asked: 8 training images cannot promise a false-alarm rate of 0\.05.*about 0\.111/,
  );
  assert.match(
    (await page.textContent('#model')) ?? '',
    /threshold [\d.]+ \(set so that about 11\.1 in 100 good parts are flagged, from the scores of 8 good images\)/,
  );
  assert.match(
    (await page.textContent('#settings')) ?? '',
    /^Fitted with: backbone mobilenet_v2; images resized to 256 px .* centre-cropped to 224×224 px .*; coreset ratio 0\.25 \(1568 of 6272 patches\)/,
  );
  const tests = testImages();
  const scores = await pageScores(page, tests);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  const zip = path.join(root, 'page-model.zip');
  await download.saveAs(zip);
  const { loadModel } = await import('../src/model/store.js');
  const stored = await loadModel(zip);
  assert.equal(stored.config.coreset.ratio, 0.25);
  assert.equal(stored.bank.size, Math.ceil(train.length * 28 * 28 * 0.25));
  const worst = assertSameScores(scores, cliScores(zip, tests));
  process.stdout.write(`# page-fitted model: ${tests.length} images, largest |page - node| = ${worst.toExponential(2)}\n`);

  // verdicts follow the threshold slider without asking the worker
  const [name, score] = [...scores][0];
  const card = page.locator(`.card[data-name="${name}"]`);
  const slide = (v: number) =>
    page.locator('#threshold').evaluate((el, value) => {
      (el as HTMLInputElement).value = value;
      el.dispatchEvent(new Event('input', { bubbles: true }));
    }, String(v));
  await slide(score * 1.01);
  assert.equal(await card.locator('.verdict').textContent(), 'PASS');
  await slide(score * 0.99);
  assert.equal(await card.locator('.verdict').textContent(), 'FAIL');

  // a non-image gets its own error card; the next image scores and leaves no page-wide error
  const txt = path.join(root, 'notes.txt');
  writeFileSync(txt, 'not an image');
  const cardsBefore = await page.locator('.card').count();
  await page.setInputFiles('#test-files', [txt, tests[0]]);
  await page.waitForFunction(
    (n) => document.querySelectorAll('.card').length === n + 2 && document.querySelectorAll('.card[data-ready="1"], .card[data-state="error"]').length >= 2,
    cardsBefore,
    { timeout: 60_000 },
  );
  await page.waitForFunction(() => document.querySelector('.card')?.getAttribute('data-ready') === '1');
  const errorCard = page.locator('.card[data-state="error"]');
  assert.equal(await errorCard.count(), 1);
  assert.match((await errorCard.locator('.scoreline').textContent()) ?? '', /^notes\.txt: \S/);
  assert.equal(await errorCard.locator('.verdict').textContent(), 'ERROR');
  assert.equal(await page.textContent('#error'), '', 'no error left standing after the image that worked');
  mkdirSync('test-artifacts', { recursive: true });
  await page.screenshot({ path: path.join('test-artifacts', 'studio.png'), fullPage: true });
  assert.deepEqual(external, []);
  await page.close();
});

test('a CLI-fitted model opened in the page (on a plain static server) gives the CLI scores', { skip, timeout: 300_000 }, async () => {
  const page = await studio('', plainUrl);
  await page.waitForFunction(() => !!document.querySelector('#limits')?.textContent);
  assert.match((await page.textContent('#limits')) ?? '', /WASM, 1 thread\)/);
  const files = readdirSync(cliModel).map((f) => path.join(cliModel, f));
  await page.setInputFiles('#open-model', files);
  await page.waitForFunction(() => document.querySelector('#model')?.textContent?.startsWith('opened'), null, { timeout: 60_000 });
  const tests = testImages();
  const worst = assertSameScores(await pageScores(page, tests), cliScores(cliModel, tests));
  process.stdout.write(`# CLI-fitted model: ${tests.length} images, largest |page - node| = ${worst.toExponential(2)}\n`);
  // verdicts at the model's threshold, as predict gives them
  const rows = JSON.parse(cli('predict', '--model', cliModel, '--json', ...tests)) as {
    file: string;
    anomalous: boolean;
    normalized: number;
    regions?: unknown[];
  }[];
  for (const r of rows) {
    const card = page.locator(`.card[data-name="${path.basename(r.file)}"]`).first();
    assert.equal(await card.locator('.verdict').textContent(), r.anomalous ? 'FAIL' : 'PASS', path.basename(r.file));
    assert.equal(await card.locator('.normalized').textContent(), r.normalized.toFixed(2), path.basename(r.file));
    // the station's layout: predict's regions outlined, and the crop's border marked not inspected (300 px -> 256 -> 224)
    assert.equal(await card.locator('.region').count(), r.regions?.length ?? 0, `${path.basename(r.file)}: regions as predict finds them`);
    const box = await card.locator('.inspected').evaluate((el) => [(el as HTMLElement).style.left, (el as HTMLElement).style.width]);
    assert.deepEqual(
      box.map((v) => Number.parseFloat(v).toFixed(1)),
      [((100 * 19) / 300).toFixed(1), ((100 * 263) / 300).toFixed(1)],
      'the inspected frame: crop 224 of 256 is 263 of 300 px, from x = 19',
    );
    assert.equal(await card.locator('.not-inspected').textContent(), 'grey: not inspected');
  }
  assert.ok(
    rows.some((r) => (r.regions?.length ?? 0) > 0),
    'some part has a region to outline',
  );
  assert.ok(rows.some((r) => r.anomalous) && rows.some((r) => !r.anomalous), 'both verdicts occur');
  assert.deepEqual(external, []);
  await page.close();
});

test('WebGPU where the browser offers it (SwiftShader in headless Chromium): the backbone runs there and a CLI model gives the CLI scores; ?backend=wasm opts out', {
  skip,
  timeout: 400_000,
}, async () => {
  const { chromium } = await import('playwright-core');
  const gpu = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS.filter((a) => a !== '--disable-gpu'), '--enable-unsafe-webgpu'] });
  try {
    const page = await studio('', url, gpu);
    await page.waitForFunction(() => !!document.querySelector('#limits')?.textContent);
    assert.match((await page.textContent('#limits')) ?? '', /ONNX Runtime WebGPU\)/);
    await page.setInputFiles(
      '#open-model',
      readdirSync(cliModel).map((f) => path.join(cliModel, f)),
    );
    await page.waitForFunction(() => document.querySelector('#model')?.textContent?.startsWith('opened'), null, { timeout: 60_000 });
    const tests = testImages();
    const worst = assertSameScores(await pageScores(page, tests), cliScores(cliModel, tests));
    process.stdout.write(`# WebGPU page, CLI-fitted model: ${tests.length} images, largest |page - node| = ${worst.toExponential(2)}\n`);
    await page.close();
    const wasm = await studio('?backend=wasm', url, gpu);
    await wasm.waitForFunction(() => !!document.querySelector('#limits')?.textContent);
    assert.match((await wasm.textContent('#limits')) ?? '', /ONNX Runtime WASM, \d+ threads?\)/);
    await wasm.close();
    assert.deepEqual(external, []);
  } finally {
    await gpu.close();
  }
});
