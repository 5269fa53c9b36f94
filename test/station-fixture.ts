// A tiny model for the station tests (mobilenet_v2 at 96 px, 6 synthetic goods): fast enough to
// judge hundreds of parts in a test. Saved to a temp folder for `patchcore serve`.
import * as path from 'node:path';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import type { TestContext } from 'node:test';
import { freePort, MOSQUITTO } from '../bench/lib/loopback.js';
import { tempDir } from './helpers.js';
import { syntheticSample, type DefectKind } from '../src/data/synthetic.js';
import { loadBackbone } from '../src/backbone/index.js';
import { PatchCore } from '../src/model/patchcore.js';
import { DEFAULT_SCORING } from '../src/model/config.js';
import { encodePng } from '../src/image/load.js';

export const TINY = 96;

export async function tinyModel(): Promise<{ model: PatchCore; dir: string }> {
  const root = tempDir('pc-station-model-');
  const files: string[] = [];
  const { writeFileAtomic } = await import('../src/util/atomic.js');
  for (let i = 0; i < 6; i++) {
    const f = path.join(root, 'train', `good_${i}.png`);
    await writeFileAtomic(f, await encodePng(syntheticSample(500 + i, 'good', TINY).image));
    files.push(f);
  }
  const model = await PatchCore.fit(files, await loadBackbone('mobilenet_v2'), {
    preprocess: { resize: TINY, crop: TINY },
    background: null,
    featureDim: 0,
    ratio: 0.5,
    seed: 0,
    scoring: DEFAULT_SCORING,
  });
  const dir = path.join(root, 'tiny');
  await model.save(dir);
  return { model, dir };
}

export function tinyPng(kind: DefectKind, seed: number): Promise<Buffer> {
  return encodePng(syntheticSample(seed, kind, TINY).image);
}

/** True when Debian's mosquitto is here; else the test skips (or fails under CI=true). */
export function hasMosquitto(t: TestContext): boolean {
  if (MOSQUITTO) return true;
  if (process.env.CI === 'true') assert.fail('mosquitto is not installed (apt-get install mosquitto)');
  t.skip('mosquitto not installed');
  return false;
}

/** A Mosquitto broker on a free loopback port (no persistence); the caller kills it. */
export async function startMosquitto(work: string): Promise<{ broker: ChildProcess; port: number }> {
  const port = await freePort();
  const conf = path.join(work, 'mosquitto.conf');
  await fs.writeFile(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  return { broker: spawn(MOSQUITTO!, ['-c', conf], { stdio: 'ignore' }), port };
}
