import { DEVICE, THRESHOLD, WEIGHTS } from '../args.js';
import { choice, custom, integer, required, text, withDefault, type CommandSpec } from '../options.js';
import { isModelZip } from '../../model/store.js';
import { PatchCore, manualThreshold } from '../../model/patchcore.js';
import { invalid, UserError } from '../../util/errors.js';
import { buildServer, DEFAULT_LIMITS } from '../../server/app.js';
import { runCommand, warnIfOldResize } from './common.js';
import { STATION_OPTIONS, stationConfig } from './serve-station.js';

const d = DEFAULT_LIMITS;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const SERVE_OPTIONS = {
  model: required('MODEL_DIR', 'a model directory from `patchcore fit`', 'a model directory'),
  host: withDefault('H', 'bind address; use 0.0.0.0 only behind a firewall, with --token', '127.0.0.1'),
  port: integer('N', 'port (0 = any free port)', 0, 65535, 8080),
  token: custom('T', "require 'Authorization: Bearer T' on /v1 (or set PATCHCORE_TOKEN)", undefined, (s, f) => {
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
  usage: '--model MODEL_DIR [options]',
  about: 'HTTP inspection station: web page at /, API under /v1 (POST /v1/predict, GET /v1/model,\nGET /v1/heatmap/ID.png), GET /healthz, GET /metrics (Prometheus).',
  options: SERVE_OPTIONS,
};

export const serveCommand = runCommand(SERVE, async (v) => {
  const dir = v.model;
  const limits = { maxBytes: v['max-bytes'], maxPixels: v['max-pixels'], maxFiles: v['max-files'], concurrency: v.concurrency, queue: v.queue, timeoutMs: v['timeout-ms'] };
  const { host, port } = v;
  const token = v.token ?? (process.env.PATCHCORE_TOKEN || undefined);
  if (token !== undefined && token.length < 8) throw invalid('PATCHCORE_TOKEN', 'at least 8 characters', `${token.length} characters`);
  const logLevel = v.log;

  const model = await PatchCore.open(dir, { device: v.device, weights: v.weights });
  const { config } = model;
  warnIfOldResize(config, false);
  if (v.threshold !== undefined) model.setThreshold(v.threshold, manualThreshold('--threshold'));

  const station = stationConfig(v, model, dir);
  const app = await buildServer({ model, modelDir: v.threshold === undefined && !isModelZip(dir) ? dir : undefined, token, logLevel, studio: v.studio, station, ...limits });
  let draining = false;
  let url: string;
  try {
    url = await app.listen({ host, port });
  } catch (e) {
    throw new UserError(`cannot listen on ${host}:${port}: ${(e as Error).message}`);
  }
  process.stdout.write(`patchcore serve: ${dir} (${config.backbone.id}, threshold ${config.threshold.toFixed(4)}) listening on ${url}/${token ? ' (bearer token required on /v1)' : ''}\n`);

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
  await app.close();
  process.stdout.write('patchcore serve: stopped\n');
  return 0;
});
