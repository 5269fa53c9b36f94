// Fit and predict in headless Chromium (the studio page, ONNX Runtime WASM) against Node (the CLI's
// PatchCore, onnxruntime-node), same images, same options (resize 256, crop 224, coreset 0.1, batch 8).
// Run: npm run bench -- browser [--backbones inception_v3,mobilenet_v2] [--train 60] [--test 10] [--data DIR]
// --data: a folder with train/good and test/* (e.g. ../shared/screw); default: the synthetic set (256 px).
import http from 'node:http';
import { readdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeSyntheticDataset } from '../../src/data/synthetic.js';
import { loadBackbone } from '../../src/backbone/index.js';
import { PatchCore } from '../../src/model/patchcore.js';
import { DEFAULT_SCORING } from '../../src/model/config.js';
import { loadImage } from '../../src/image/load.js';
import { buildSite } from '../../src/web/build.js';
import { loadSite, SITE_HEADERS } from '../../src/web/site-files.js';
import { mkdtempSync } from 'node:fs';
import { arg } from '../lib/args.js';

const backbones = arg('backbones', 'inception_v3,mobilenet_v2').split(',');
const nTrain = Number(arg('train', '60'));
const nTest = Number(arg('test', '10'));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function images(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /\.(png|jpe?g)$/i.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

async function dataset(): Promise<{ train: string[]; test: string[]; label: string }> {
  const given = arg('data', '');
  const dir =
    given || (await writeSyntheticDataset(mkdtempSync(path.join(os.tmpdir(), 'pc-bench-web-')), { train: nTrain, testGood: nTest, testPerDefect: 0 }));
  const testDir = path.join(dir, 'test');
  const test = readdirSync(testDir)
    .flatMap((k) => images(path.join(testDir, k)))
    .slice(0, nTest);
  return { train: images(path.join(dir, 'train', 'good')).slice(0, nTrain), test, label: given ? path.basename(given) : 'synthetic 256 px' };
}

async function node(id: string, train: string[], test: string[]) {
  const backbone = await loadBackbone(id);
  const t0 = performance.now();
  const model = await PatchCore.fit(train, backbone, {
    preprocess: { resize: 256, crop: 224 },
    background: null,
    featureDim: 0,
    ratio: 0.1,
    seed: 0,
    scoring: DEFAULT_SCORING,
    batchSize: 8,
  });
  const fitMs = performance.now() - t0;
  const ms: number[] = [];
  const scores = new Map<string, number>();
  for (const f of test) {
    const t = performance.now();
    scores.set(f, (await model.predict(await loadImage(f))).score);
    ms.push(performance.now() - t);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pc-bench-model-'));
  await model.save(dir);
  return { fitMs, predictMs: median(ms.slice(1)), dir, scores };
}

async function browser(id: string, train: string[], test: string[], nodeModel: { dir: string; scores: Map<string, number> }) {
  const site = mkdtempSync(path.join(os.tmpdir(), 'pc-bench-site-'));
  await buildSite({ out: site, backbone: await loadBackbone(id) });
  const files = loadSite(site);
  const server = http.createServer((req, res) => {
    const f = files.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (!f) return void res.writeHead(404).end();
    res.writeHead(200, { ...SITE_HEADERS, 'content-type': f.type }).end(f.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  const { chromium } = await import('playwright-core');
  const b = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const page = await b.newPage();
    await page.route('**/*', (r) => (r.request().url().startsWith(url) ? r.continue() : r.abort()));
    await page.goto(url);
    await page.waitForFunction(() => !!document.querySelector('#limits')?.textContent);
    const threads = (await page.textContent('#limits'))?.match(/(\d+) thread/)?.[1];
    await page.setInputFiles('#train-files', train);
    await page.click('#fit');
    await page.waitForFunction(() => document.body.dataset.fitMs || document.querySelector('#error')?.textContent, null, { timeout: 1_800_000 });
    const err = await page.textContent('#error');
    if (err) throw new Error(err);
    const fitMs = Number(await page.evaluate(() => document.body.dataset.fitMs));
    await page.setInputFiles('#test-files', test);
    await page.waitForFunction((n) => document.querySelectorAll('.card[data-ready="1"]').length === n, test.length, { timeout: 600_000 });
    const ms = await page.locator('.card[data-ready="1"]').evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.ms)));
    // the Node-fitted model opened in the page: how far the page's scores are from Node's
    await page.setInputFiles(
      '#open-model',
      readdirSync(nodeModel.dir).map((f) => path.join(nodeModel.dir, f)),
    );
    await page.waitForFunction(() => document.querySelector('#model')?.textContent?.startsWith('opened'));
    await page.setInputFiles('#test-files', test);
    await page.waitForFunction((n) => document.querySelectorAll('.card[data-ready="1"]').length === n, 2 * test.length, { timeout: 600_000 });
    const cards = await page.locator('.card[data-ready="1"]').evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.score)));
    const again = cards.slice(0, test.length).reverse(); // newest first
    const rel = Math.max(...test.map((f, i) => Math.abs(again[i] - nodeModel.scores.get(f)!) / Math.abs(nodeModel.scores.get(f)!)));
    return { fitMs, predictMs: median(ms.slice(0, -1)), threads, rel }; // cards are newest first: drop the first (warm-up) image
  } finally {
    await b.close();
    server.close();
  }
}

const { train, test, label } = await dataset();
console.log(
  `${train.length} training images, ${test.length} test images (${label}); load ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
console.log('| backbone | host | fit, s | predict, ms/image (median) | page score vs Node, same model (max rel. diff) |\n|---|---|---|---|---|');
for (const id of backbones) {
  const n = await node(id, train, test);
  console.log(`| ${id} | Node (onnxruntime-node, ${os.availableParallelism()} cores) | ${(n.fitMs / 1000).toFixed(1)} | ${n.predictMs.toFixed(0)} | |`);
  const w = await browser(id, train, test, n);
  console.log(
    `| ${id} | Chromium (onnxruntime-web WASM, ${w.threads} thread${w.threads === '1' ? '' : 's'}) | ${(w.fitMs / 1000).toFixed(1)} | ${w.predictMs.toFixed(0)} | ${w.rel.toExponential(1)} |`,
  );
}
console.log(
  `load after: ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
