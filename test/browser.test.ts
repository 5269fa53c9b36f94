// Browser end-to-end (headless Chromium): 20 files uploaded, one a .txt -> 19 results and 1 error,
// each with its own card; a threshold change refused without the token and, with it, a new version
// used by later parts only while earlier rows keep their verdicts; a reload shows the same record.
// With a model repository: a picker lists the models (name, version, threshold), an upload goes to
// the chosen one, and the record's table filters by model.
// Screenshots of a good and a defect part: test-artifacts/ (and docs/figures/ with UPDATE_FIGURES=1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../src/util/atomic.js';
import { findChromium, CHROMIUM_ARGS, NO_CHROMIUM, chromiumSkip, tempDir } from './helpers.js';
import { startServer } from './server-fixture.js';
import { tinyModel, tinyPng } from './station-fixture.js';
import { StationServices } from '../src/server/record/setup.js';
import { ModelRepository } from '../src/server/repository.js';
import type { Browser, Page } from 'playwright-core';
import { PatchCore, manualThreshold } from '../src/model/patchcore.js';

const CHROMIUM = findChromium();
const skip = chromiumSkip(CHROMIUM);

/** The station page at 1366×900, its script errors collected. */
async function openPage(browser: Browser, url: string): Promise<{ page: Page; pageErrors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(url);
  return { page, pageErrors };
}

test('station page: per-file results and errors, threshold as a versioned setting, history from the record', { skip, timeout: 180_000 }, async () => {
  assert.ok(CHROMIUM !== null, NO_CHROMIUM);
  const { chromium } = await import('playwright-core');
  const { model, dir: modelDir } = await tinyModel();
  const token = 'browser-token-1';
  const station = StationServices.open({ model, modelName: 'tiny', station: 'line1', recordDir: tempDir('pc-browser-rec-'), keepImages: 100 });
  const { app, url } = await startServer({ model, modelDir, token, station });
  const browser = await chromium.launch({ executablePath: CHROMIUM ?? undefined, args: CHROMIUM_ARGS });
  try {
    const { page, pageErrors } = await openPage(browser, url);
    await page.fill('#token', token);
    await page.dispatchEvent('#token', 'change');
    await page.waitForFunction(() => (document.querySelector('#model-version')?.textContent ?? '').includes('v1'));

    const dir = tempDir('pc-browser-');
    const files: string[] = [];
    for (let i = 0; i < 19; i++) {
      const f = path.join(dir, `${i % 4 === 0 ? 'scratch' : 'good'}_${String(i).padStart(2, '0')}.png`);
      await writeFileAtomic(f, await tinyPng(i % 4 === 0 ? 'scratch' : 'good', 300 + i));
      files.push(f);
    }
    const txt = path.join(dir, 'notes.txt');
    await writeFileAtomic(txt, 'not an image');
    files.splice(7, 0, txt);
    await page.setInputFiles('#files', files);
    await page.waitForFunction(() => document.querySelectorAll('.card[data-state]').length === 20, undefined, { timeout: 120_000 });
    assert.equal(await page.locator('.card[data-state="error"]').count(), 1);
    assert.equal(await page.locator('.card[data-state="pass"], .card[data-state="fail"]').count(), 19);
    assert.match((await page.locator('.card[data-state="error"] .scoreline').textContent()) ?? '', /notes\.txt: .*not a readable image/);
    await page.waitForFunction(() => document.querySelectorAll('#history tbody tr').length === 19);
    const before = (await page.locator('#history tbody').textContent()) ?? '';

    // No token: refused, nothing changes.
    await page.fill('#token', '');
    await page.dispatchEvent('#token', 'change');
    const original = model.threshold;
    const lower = original / 10;
    await page.fill('#threshold', String(lower));
    await page.click('#apply-threshold');
    await page.waitForFunction(() => (document.querySelector('#status')?.textContent ?? '').startsWith('threshold not changed'));
    assert.match((await page.locator('#status').textContent()) ?? '', /threshold not changed: missing or wrong bearer token/);
    assert.notEqual(model.threshold, lower);

    // With the token: version v2, used by the next part only.
    await page.fill('#token', token);
    await page.dispatchEvent('#token', 'change');
    await page.waitForFunction(() => (document.querySelector('#model-version')?.textContent ?? '').includes('v1'));
    await page.fill('#threshold', String(lower));
    await page.click('#apply-threshold');
    await page.waitForFunction(() => (document.querySelector('#model-version')?.textContent ?? '').includes('v2 (threshold changed)'));
    const later = path.join(dir, 'later_good.png');
    await writeFileAtomic(later, await tinyPng('good', 777));
    await page.setInputFiles('#files', [later]);
    await page.waitForFunction(() => document.querySelectorAll('#history tbody tr').length === 20);
    const newest = page.locator('#history tbody tr').first();
    assert.match((await newest.textContent()) ?? '', /later_good\.png[\s\S]*tiny v2[\s\S]*FAIL/);
    const after = (await page.locator('#history tbody').textContent()) ?? '';
    assert.ok(after.endsWith(before), 'earlier rows keep their verdicts and thresholds');

    // Reload (the token stays in the tab's sessionStorage): the same record, from the server.
    await page.reload();
    await page.waitForFunction(() => document.querySelectorAll('#history tbody tr').length === 20);
    assert.equal(await page.locator('#history tbody').textContent(), after);
    assert.deepEqual(pageErrors, []);

    // Screenshots with the one colour scale: a good part and a defect (fresh page, the v2 threshold reset first).
    mkdirSync('test-artifacts', { recursive: true });
    const out = process.env.UPDATE_FIGURES === '1' ? path.join('docs', 'figures') : 'test-artifacts';
    await fetch(`${url}/v1/threshold`, {
      method: 'PUT',
      body: JSON.stringify({ threshold: original }),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    });
    await page.reload();
    await page.waitForFunction(() => (document.querySelector('#model-version')?.textContent ?? '').includes('v3'));
    const defects = [];
    for (const kind of ['missing', 'crack'] as const) {
      const f = path.join(dir, `${kind}.png`);
      await writeFileAtomic(f, await tinyPng(kind, 7)); // seed 7: both fail at this tiny model's threshold
      defects.push(f);
    }
    await page.setInputFiles('#files', [files.find((f) => f.endsWith('good_01.png'))!, ...defects]);
    await page.waitForFunction(() => document.querySelectorAll('.card[data-ready="1"]').length === 3, undefined, { timeout: 60_000 });
    await page.locator('.card[data-state="pass"]', { hasText: 'good_01.png' }).screenshot({ path: path.join(out, 'station-good.png') });
    await page
      .locator('.card[data-state="fail"]')
      .first()
      .screenshot({ path: path.join(out, 'station-defect.png') });
  } finally {
    await browser.close();
    await app.close();
  }
});

test('station page with several models: the picker sends parts to the chosen model; the record filters by model', { skip, timeout: 120_000 }, async () => {
  assert.ok(CHROMIUM !== null, NO_CHROMIUM);
  const { chromium } = await import('playwright-core');
  const { dir: tiny } = await tinyModel();
  const repo = tempDir('pc-browser-repo-');
  cpSync(tiny, path.join(repo, 'alpha', '1'), { recursive: true });
  cpSync(tiny, path.join(repo, 'beta', '2'), { recursive: true });
  const beta = await PatchCore.open(path.join(repo, 'beta', '2'));
  beta.setThreshold(beta.threshold / 100, manualThreshold('test')); // beta fails every part, alpha passes good ones
  await beta.saveConfig(path.join(repo, 'beta', '2'));
  const repository = await ModelRepository.open(repo, { load: (d) => PatchCore.open(d) });
  const alpha = repository.get('alpha')!.model;
  const station = StationServices.open({
    model: alpha,
    modelName: 'alpha',
    repository,
    station: 'line1',
    recordDir: tempDir('pc-browser-rec-'),
    keepImages: 10,
  });
  const { app, url } = await startServer({ model: alpha, repository, station });
  const browser = await chromium.launch({ executablePath: CHROMIUM ?? undefined, args: CHROMIUM_ARGS });
  try {
    const { page, pageErrors } = await openPage(browser, url);
    await page.waitForFunction(() => document.querySelectorAll('#model-pick option').length === 2);
    assert.equal(await page.isVisible('#model-pick'), true);
    const options = await page.locator('#model-pick option').allTextContents();
    assert.match(options[0], /^alpha v1 · threshold \d/);
    assert.match(options[1], /^beta v2 · threshold \d/);
    assert.equal(await page.inputValue('#model-pick'), 'alpha', 'the default model is chosen first');

    const f = path.join(tempDir('pc-browser-pick-'), 'good_part.png');
    await writeFileAtomic(f, await tinyPng('good', 301));
    await page.setInputFiles('#files', [f]);
    await page.waitForFunction(() => document.querySelectorAll('.card[data-state]').length === 1);
    await page.selectOption('#model-pick', 'beta');
    await page.waitForFunction(() => (document.querySelector('#model-version')?.textContent ?? '').startsWith('model beta v2'));
    await page.setInputFiles('#files', [f]);
    await page.waitForFunction(() => document.querySelectorAll('.card[data-state]').length === 2);
    assert.match((await page.locator('.card').first().locator('.scoreline').textContent()) ?? '', /· beta v2 ·/);
    assert.equal(await page.locator('.card').first().getAttribute('data-state'), 'fail', "beta's low threshold");
    assert.equal(await page.locator('.card').nth(1).getAttribute('data-state'), 'pass', 'alpha passes the good part');

    await page.waitForFunction(() => document.querySelectorAll('#history tbody tr').length === 2);
    await page.selectOption('#history-model', 'alpha');
    await page.waitForFunction(() => document.querySelectorAll('#history tbody tr').length === 1);
    assert.match((await page.locator('#history tbody').textContent()) ?? '', /good_part\.png.*alpha v1.*PASS/);
    await page.selectOption('#history-model', 'beta');
    await page.waitForFunction(() => (document.querySelector('#history tbody')?.textContent ?? '').includes('beta v2'));
    assert.equal(await page.locator('#history tbody tr').count(), 1);
    assert.deepEqual(pageErrors, []);
  } finally {
    await browser.close();
    await app.close();
  }
});
