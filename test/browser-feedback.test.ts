// The station page's feedback (headless Chromium): a flagged part marked good from its card is
// counted as waiting on the status line, "apply" swaps in the updated version (the line names it
// and its parent), and the next part is judged by it. Skips locally without Chromium; fails under CI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { writeFileAtomic } from '../src/util/atomic.js';
import { findChromium, CHROMIUM_ARGS, NO_CHROMIUM, chromiumSkip, tempDir } from './helpers.js';
import { startServer } from './server-fixture.js';
import { tinyModel, tinyPng } from './station-fixture.js';
import { StationServices } from '../src/server/record/setup.js';

const CHROMIUM = findChromium();
const skip = chromiumSkip(CHROMIUM);

test('station page: mark good, the waiting count, apply swaps in the new version', { skip, timeout: 120_000 }, async () => {
  assert.ok(CHROMIUM !== null, NO_CHROMIUM);
  const { chromium } = await import('playwright-core');
  const { model, dir: modelDir } = await tinyModel();
  const token = 'browser-token-2';
  const station = StationServices.open({ model, modelName: 'tiny', station: 'line1', recordDir: tempDir('pc-browser-fb-'), keepImages: 100 });
  const { app, url } = await startServer({ model, modelDir, token, station, modelName: 'tiny' });
  const browser = await chromium.launch({ executablePath: CHROMIUM ?? undefined, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(url);
    await page.fill('#token', token);
    await page.dispatchEvent('#token', 'change');
    await page.waitForFunction(([sel, want]) => (document.querySelector(sel)?.textContent ?? '').includes(want), ['#feedback-text', `0 good labels waiting`]);
    assert.ok(await page.locator('#apply-feedback').isDisabled(), 'nothing to apply yet');

    const planted = path.join(tempDir('pc-browser-fb-in-'), 'planted.png');
    await writeFileAtomic(planted, await tinyPng('missing', 2)); // flagged by the tiny model
    await page.setInputFiles('#files', [planted]);
    await page.waitForSelector('.card[data-state="fail"] .marks button[data-label="good"]');
    await page.click('.card[data-state="fail"] .marks button[data-label="good"]');
    await page.waitForFunction(([sel, want]) => (document.querySelector(sel)?.textContent ?? '').includes(want), ['#feedback-text', `1 good label waiting`]);
    assert.equal(await page.locator('.card[data-label="good"]').count(), 1);

    await page.click('#apply-feedback');
    await page.waitForFunction(
      ([sel, want]) => (document.querySelector(sel)?.textContent ?? '').includes(want),
      ['#feedback-text', `updated from ${model.modelId}`],
      { timeout: 60_000 },
    );
    assert.match((await page.locator('#feedback-text').textContent()) ?? '', /0 good labels waiting/);
    assert.match((await page.locator('#status').textContent()) ?? '', /1 good part added/);
    await page.waitForFunction(([sel, want]) => (document.querySelector(sel)?.textContent ?? '').includes(want), ['#model-version', `v2`]);

    await page.setInputFiles('#files', [planted]);
    await page.waitForFunction(() => document.querySelectorAll('#history tbody tr').length === 2);
    assert.match((await page.locator('#history tbody tr').first().textContent()) ?? '', /planted\.png[\s\S]*tiny v2/);
    assert.deepEqual(pageErrors, []);
  } finally {
    await browser.close();
    await app.close();
  }
});
