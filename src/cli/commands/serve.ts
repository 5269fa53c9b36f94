import { DEVICE, THRESHOLD, WEIGHTS } from '../args.js';
import * as path from 'node:path';
import { choice, custom, integer, text, withDefault, type CommandSpec } from '../options.js';
import { isModelZip } from '../../model/store.js';
import { PatchCore, manualThreshold } from '../../model/patchcore.js';
import { invalid, UserError } from '../../util/errors.js';
import { buildServer, DEFAULT_LIMITS } from '../../server/app.js';
import { ModelRepository } from '../../server/repository.js';
import { runCommand, warnIfOldResize } from './common.js';
import { STATION_OPTIONS, stationConfig } from './serve-station.js';

const d = DEFAULT_LIMITS;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const SERVE_OPTIONS = {
  model: text('MODEL_DIR', 'a model directory from `patchcore fit` (served under /v2 as its folder name, version 1)'),
  models: text(
    'DIR',
    'a model repository, Triton layout DIR/<name>/<version>/ (model directories): every model at its highest version, reloaded on change; /v1 serves the first by name',
  ),
  'poll-ms': integer('N', 'with --models: how often the repository is checked for new or changed versions (0 = never)', 0, 3_600_000, 2000),
  host: withDefault('H', 'bind address; use 0.0.0.0 only behind a firewall, with --token', '127.0.0.1'),
  port: integer('N', 'port (0 = any free port)', 0, 65535, 8080),
  token: custom('T', "require 'Authorization: Bearer T' on /v1 and /v2, health probes excepted (or set PATCHCORE_TOKEN)", undefined, (s, f) => {
    if (s.length < 8) throw invalid(f, 'at least 8 characters', `${s.length} characters`);
    return s;
  }),
  'max-bytes': integer('N', 'request body limit', 1024, 2 ** 31, d.maxBytes),
  'max-pixels': integer('N', 'image width*height limit, checked before decoding', 1, 2 ** 31, d.maxPixels),
  'max-files': integer('N', 'files per multipart request', 1, 1000, d.maxFiles),
  concurrency: integer('N', 'inferences at once', 1, 64, d.concurrency),
  queue: integer('N', 'requests waiting for a slot before 503 + Retry-After', 0, 100000, d.queue),
  'timeout-ms': integer('N', 'per-request budget, queueing included', 1, 2 ** 31, d.timeoutMs),
  device: DEVICE,
  weights: WEIGHTS,
  threshold: THRESHOLD,
  log: choice('LEVEL', 'server log level', LOG_LEVELS, 'warn'),
  studio: text('DIR', "also serve the browser studio built by 'patchcore web --out DIR' at /studio/"),
  ...STATION_OPTIONS,
} as const;

export const SERVE: CommandSpec<typeof SERVE_OPTIONS> = {
  name: 'serve',
  usage: '--model MODEL_DIR | --models DIR [options]',
  about:
    'HTTP inspection station: web page at /, API under /v1 (POST /v1/predict, GET /v1/model,\nGET /v1/heatmap/ID.png), the Open Inference Protocol under /v2 (see docs/SERVING.md),\nGET /healthz, GET /metrics (Prometheus).',
  options: SERVE_OPTIONS,
};

export const serveCommand = runCommand(SERVE, async (v) => {
  const dir = v.model;
  const limits = {
    maxBytes: v['max-bytes'],
    maxPixels: v['max-pixels'],
    maxFiles: v['max-files'],
    concurrency: v.concurrency,
    queue: v.queue,
    timeoutMs: v['timeout-ms'],
  };
  const { host, port } = v;
  const token = v.token ?? (process.env.PATCHCORE_TOKEN || undefined);
  if (token !== undefined && token.length < 8) throw invalid('PATCHCORE_TOKEN', 'at least 8 characters', `${token.length} characters`);
  const logLevel = v.log;

  if ((dir === undefined) === (v.models === undefined)) throw new UserError('serve: give --model MODEL_DIR or --models DIR (one of them)');
  if (v.models !== undefined && v.threshold !== undefined)
    throw new UserError('--threshold applies to --model only: each model of a repository keeps its own threshold');
  const open = (d: string) => PatchCore.open(d, { device: v.device, weights: v.weights });
  const repository =
    v.models !== undefined
      ? await ModelRepository.open(v.models, { load: open, pollMs: v['poll-ms'], onEvent: (m) => process.stdout.write(`patchcore serve: ${m}\n`) })
      : undefined;
  const model = repository ? repository.defaultModel().model : await open(dir!);
  const { config } = model;
  warnIfOldResize(config, false);
  if (v.threshold !== undefined) model.setThreshold(v.threshold, manualThreshold('--threshold'));

  const served = {
    modelDir: v.threshold === undefined && dir !== undefined && !isModelZip(dir) ? dir : undefined,
    token,
    logLevel,
    studio: v.studio,
    ...limits,
  };
  // the station (record, watch, outputs) judges with the model /v1 serves unless a part names
  // another of the repository (the page's picker, --watch DIR=MODEL); each follows its reloads
  const station = repository
    ? stationConfig(
        v,
        {
          get model() {
            return repository.defaultModel().model;
          },
        },
        repository.defaultModel().name,
        repository,
      )
    : stationConfig(v, { model }, path.basename(path.resolve(dir!)).replace(/\.zip$/i, ''));
  const app = await buildServer(
    repository
      ? {
          ...served,
          station,
          repository,
          get model() {
            return repository.defaultModel().model;
          },
        } // /v1 follows the default model's reloads
      : { ...served, station, model, modelName: path.basename(dir!).replace(/\.zip$/i, '') },
  );
  let draining = false;
  let url: string;
  try {
    url = await app.listen({ host, port });
  } catch (e) {
    throw new UserError(`cannot listen on ${host}:${port}: ${(e as Error).message}`);
  }
  const what = repository ? `${v.models} (${repository.names().join(', ')}; /v1: ${repository.defaultModel().name})` : dir;
  process.stdout.write(
    `patchcore serve: ${what} (${config.backbone.id}, threshold ${config.threshold.toFixed(4)}) listening on ${url}/${token ? ' (bearer token required on /v1 and /v2)' : ''}\n`,
  );

  // SIGTERM/SIGINT: stop accepting, let in-flight requests finish, then exit; a second signal exits at once.
  // This replaces the CLI's exit-immediately handlers (main.ts): serve keeps no temp files to clean up.
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      process.removeAllListeners(sig);
      process.on(sig, () => {
        if (draining) process.exit(130);
        draining = true;
        resolve(sig);
      });
    }
  });
  process.stdout.write(`patchcore serve: ${signal}, finishing in-flight requests\n`);
  const force = setTimeout(() => {
    process.stderr.write('patchcore serve: shutdown took too long, exiting\n');
    process.exit(1);
  }, limits.timeoutMs + 10_000);
  force.unref();
  repository?.stop();
  await app.close();
  process.stdout.write('patchcore serve: stopped\n');
  return 0;
});
