// The station with a model repository (serve --models): /v1/station lists every model with its
// version and threshold, an upload goes to the model it names (?model=), each watched folder judges
// with the model it is bound to (--watch DIR=MODEL, the default model when omitted), the record
// filters by model, and a restart after a crash between record and move judges nothing twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { tempDir } from './helpers.js';
import { tinyModel, tinyPng } from './station-fixture.js';
import { startServer } from './server-fixture.js';
import { StationServices } from '../src/server/record/setup.js';
import { ModelRepository } from '../src/server/repository.js';
import { PatchCore, manualThreshold } from '../src/model/patchcore.js';
import { parseCommand } from '../src/cli/options.js';
import { SERVE } from '../src/cli/commands/serve.js';
import { UserError } from '../src/util/errors.js';

type Row = { source: string; camera: string; model_name: string; model_version: string; threshold: number };

async function until(what: string, ok: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('--watch is repeatable: DIR=MODEL or DIR', () => {
  const v = parseCommand(SERVE, ['--models', 'm', '--watch', 'in/cam1=plate', '--watch', 'in/cam2']).values;
  assert.deepEqual(v.watch, [
    { dir: 'in/cam1', model: 'plate' },
    { dir: 'in/cam2', model: undefined },
  ]);
  assert.deepEqual(parseCommand(SERVE, ['--models', 'm']).values.watch, []);
  assert.throws(() => parseCommand(SERVE, ['--models', 'm', '--watch', 'in=']), /Expected DIR or DIR=MODEL for --watch but received "in="/);
});

test('a repository station: model picker data, uploads and watched folders per model, record filtered by model', { timeout: 90_000 }, async () => {
  const { dir: tiny } = await tinyModel();
  const repo = tempDir('pc-station-repo-');
  cpSync(tiny, path.join(repo, 'alpha', '1'), { recursive: true });
  cpSync(tiny, path.join(repo, 'beta', '2'), { recursive: true });
  const beta = await PatchCore.open(path.join(repo, 'beta', '2'));
  beta.setThreshold(beta.threshold * 3, manualThreshold('test'));
  await beta.saveConfig(path.join(repo, 'beta', '2'));
  const repository = await ModelRepository.open(repo, { load: (d) => PatchCore.open(d) });
  const alpha = repository.get('alpha')!.model;
  const betaThreshold = repository.get('beta')!.model.threshold;
  assert.ok(Math.abs(betaThreshold - 3 * alpha.threshold) < 1e-9);

  const work = tempDir('pc-station-models-');
  const record = path.join(work, 'record');
  const cam1 = path.join(work, 'cam1');
  const cam2 = path.join(work, 'cam2');
  const config = {
    model: alpha,
    modelName: 'alpha',
    repository,
    station: 'st',
    recordDir: record,
    keepImages: 10,
    watch: [{ dir: cam1, model: 'beta' }, { dir: cam2 }],
    watchStableMs: 100,
  };
  assert.throws(
    () => StationServices.open({ ...config, watch: [{ dir: cam1, model: 'gamma' }] }),
    (e: Error) => e instanceof UserError && /no model named "gamma" here \(this server holds "alpha", "beta"\)/.test(e.message),
  );
  assert.throws(
    () => StationServices.open({ ...config, watch: [{ dir: cam1 }, { dir: path.join(work, 'x', 'cam1') }] }),
    /another watched folder is also named "cam1"/,
  );

  let { app, url } = await startServer({ model: alpha, repository, station: StationServices.open(config) });
  try {
    const info = (await (await fetch(`${url}/v1/station`)).json()) as {
      default_model: string;
      models: { name: string; version: string; threshold: number; default: boolean; fitted_on: number }[];
    };
    assert.equal(info.default_model, 'alpha');
    assert.deepEqual(
      info.models.map((m) => [m.name, m.version, m.threshold, m.default, m.fitted_on]),
      [
        ['alpha', 'v1', alpha.threshold, true, 6],
        ['beta', 'v2', betaThreshold, false, 6],
      ],
    );

    const png = await tinyPng('good', 7);
    const post = (q: string) => fetch(`${url}/v1/predict${q}`, { method: 'POST', body: new Uint8Array(png), headers: { 'content-type': 'image/png' } });
    const toBeta = (await (await post('?model=beta')).json()) as { threshold: number; model: { name: string; version: string }; score: number };
    assert.deepEqual(toBeta.model, { name: 'beta', version: 'v2' });
    assert.equal(toBeta.threshold, betaThreshold);
    const toDefault = (await (await post('')).json()) as { threshold: number; model: { name: string }; score: number };
    assert.deepEqual([toDefault.model.name, toDefault.threshold], ['alpha', alpha.threshold]);
    assert.equal(toDefault.score, toBeta.score, 'the same bank judges both: only the threshold differs');
    const unknown = await post('?model=gamma');
    assert.equal(unknown.status, 404);
    assert.match(((await unknown.json()) as { message: string }).message, /no model named "gamma" is served here \(models: alpha, beta\)/);

    await fs.mkdir(cam1, { recursive: true });
    await fs.writeFile(path.join(cam1, 'p1.png'), await tinyPng('good', 8));
    await fs.writeFile(path.join(cam2, 'p2.png'), await tinyPng('good', 9));
    const rows = async (q = '') => ((await (await fetch(`${url}/v1/results?limit=100${q}`)).json()) as { results: Row[] }).results;
    await until('both watched parts', async () => (await rows()).length === 4);
    const bySource = Object.fromEntries((await rows()).map((r) => [`${r.camera}:${r.source}`, [r.model_name, r.model_version, r.threshold]]));
    assert.deepEqual(bySource['cam1:p1.png'], ['beta', 'v2', betaThreshold], 'cam1 is bound to beta');
    assert.deepEqual(bySource['cam2:p2.png'], ['alpha', 'v1', alpha.threshold], 'cam2 judges with the default model');
    assert.deepEqual((await rows('&model=beta')).map((r) => r.source).sort(), ['body', 'p1.png']);
    assert.deepEqual((await rows('&model=alpha')).map((r) => r.source).sort(), ['body', 'p2.png']);

    // A crash after the record but before the move: the file is back in its folder, unchanged.
    await app.close();
    await fs.rename(path.join(cam1, '.done', 'p1.png'), path.join(cam1, 'p1.png'));
    ({ app, url } = await startServer({ model: alpha, repository, station: StationServices.open(config) }));
    await until('the recorded file moved again', async () => (await fs.readdir(cam1)).filter((f) => f.endsWith('.png')).length === 0);
    assert.equal((await rows()).length, 4, 'nothing judged twice after the restart');
  } finally {
    await app.close();
  }
});
