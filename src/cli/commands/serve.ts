import { device, isInt, num, optStr, parse, str } from '../args.js';
import { PatchCore, manualThreshold } from '../../model/patchcore.js';
import { UserError } from '../../util/errors.js';
import { buildServer, DEFAULT_LIMITS } from '../../server/app.js';
import { helpRequested } from './common.js';

const d = DEFAULT_LIMITS;
const HELP = `patchcore serve --model MODEL_DIR [options]
  HTTP inspection station: web page at /, API under /v1 (POST /v1/predict, GET /v1/model,
  GET /v1/heatmap/ID.png), GET /healthz, GET /metrics (Prometheus).
  --host H            bind address (default 127.0.0.1; use 0.0.0.0 only behind a firewall, with --token)
  --port N            (default 8080; 0 = any free port)
  --token T           require 'Authorization: Bearer T' on /v1 (or set PATCHCORE_TOKEN)
  --max-bytes N       request body limit (default ${d.maxBytes})
  --max-pixels N      image width*height limit, checked before decoding (default ${d.maxPixels})
  --max-files N       files per multipart request (default ${d.maxFiles})
  --concurrency N     inferences at once (default ${d.concurrency})
  --queue N           requests waiting for a slot before 503 + Retry-After (default ${d.queue})
  --timeout-ms N      per-request budget, queueing included (default ${d.timeoutMs})
  --device cpu|cuda   --weights FILE   --threshold T   --log LEVEL (fatal..trace, default warn)
`;

const FLAGS = {
  model: { type: 'string' }, host: { type: 'string' }, port: { type: 'string' }, token: { type: 'string' },
  'max-bytes': { type: 'string' }, 'max-pixels': { type: 'string' }, 'max-files': { type: 'string' },
  concurrency: { type: 'string' }, queue: { type: 'string' }, 'timeout-ms': { type: 'string' },
  device: { type: 'string' }, weights: { type: 'string' }, threshold: { type: 'string' }, log: { type: 'string' },
} as const;

export async function serveCommand(argv: string[]): Promise<number> {
  const { values: v } = parse(argv, FLAGS);
  if (helpRequested(v, HELP)) return 0;
  const dir = str(v, 'model');
  const int = (name: string, fallback: number, lo: number, hi = 2 ** 31) => num(v, name, fallback, isInt(lo, hi), `an integer ${lo}..${hi}`);
  const limits = {
    maxBytes: int('max-bytes', d.maxBytes, 1024),
    maxPixels: int('max-pixels', d.maxPixels, 1),
    maxFiles: int('max-files', d.maxFiles, 1, 1000),
    concurrency: int('concurrency', d.concurrency, 1, 64),
    queue: int('queue', d.queue, 0, 100000),
    timeoutMs: int('timeout-ms', d.timeoutMs, 1),
  };
  const port = int('port', 8080, 0, 65535);
  const host = str(v, 'host', '127.0.0.1');
  const token = typeof v.token === 'string' ? v.token : process.env.PATCHCORE_TOKEN || undefined;
  if (token !== undefined && token.length < 8) throw new UserError('--token: use at least 8 characters');
  const logLevel = str(v, 'log', 'warn');
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) throw new UserError(`--log ${logLevel}: expected fatal, error, warn, info, debug, trace or silent`);

  const model = await PatchCore.open(dir, { device: device(v), weights: optStr(v, 'weights') });
  const { config } = model;
  if (v.threshold !== undefined) model.setThreshold(num(v, 'threshold', 0), manualThreshold('--threshold'));

  const app = await buildServer({ model, modelDir: v.threshold === undefined ? dir : undefined, token, logLevel, ...limits });
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
}
