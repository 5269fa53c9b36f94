// The inspection server: fastify app with the /v1 API, the Open Inference Protocol (/v2), metrics, health and the web page.
import Fastify, { type FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import type { PatchCore } from '../model/patchcore.js';
import { UserError } from '../util/errors.js';
import { HttpError } from './http-error.js';
import { InferenceQueue } from './queue.js';
import { HEATMAP_ID, HeatmapStore } from './heatmaps.js';
import { Metrics } from './metrics.js';
import { RAW_TYPES, registerPredict } from './predict.js';
import { loadUi, UI_HEADERS } from './static.js';
import { loadSite, SITE_HEADERS } from '../web/site-files.js';
import { registerThreshold } from './threshold.js';
import { registerFeedback } from './feedback.js';
import { bearerGuard } from './auth.js';
import { ModelRepository } from './repository.js';
import { registerV2 } from './v2/routes.js';
import type { StationServices } from './record/setup.js';
import { registerStation } from './record/register.js';

export interface ServerLimits {
  maxBytes: number;
  maxPixels: number;
  maxFiles: number;
  concurrency: number;
  queue: number;
  timeoutMs: number;
  heatmapEntries: number;
  heatmapBytes: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxBytes: 20 * 1024 * 1024,
  maxPixels: 4096 * 4096,
  maxFiles: 16,
  concurrency: 1,
  queue: 8,
  timeoutMs: 30_000,
  heatmapEntries: 200,
  heatmapBytes: 256 * 1024 * 1024,
};

export interface ServerOptions extends Partial<ServerLimits> {
  /** The model /v1 serves (may be a getter that follows the repository's reloads). */
  model: PatchCore;
  /** The models /v2 serves; default: a repository of one holding `model` as `modelName`. */
  repository?: ModelRepository;
  /** The name of `model` under /v2 when no repository is given (default 'patchcore'). */
  modelName?: string;
  /** The model's directory: with a token, PUT /v1/threshold saves the page's threshold into its model.json, and POST /v1/feedback and /v1/update write labels and new versions there. */
  modelDir?: string;
  /** When set, every /v1 request needs `Authorization: Bearer <token>`. */
  token?: string;
  logLevel?: string;
  /** Folder written by `patchcore web`: served at /studio/. */
  studio?: string;
  /** Record, outputs, watched folders and station metrics; closed with the server. */
  station?: StationServices;
}

/** Any thrown value -> status + JSON body; only unexpected errors are 500 (and logged). */
function toHttpError(e: unknown, maxBytes: number): HttpError {
  if (e instanceof HttpError) return e;
  if (e instanceof UserError) return new HttpError(400, 'bad_input', e.message);
  const fe = e as { statusCode?: number; code?: string; message?: string };
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new HttpError(413, 'body_too_large', `request body exceeds ${maxBytes} bytes`);
    const code = fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'unsupported_media_type' : (fe.code ?? 'bad_request').toLowerCase();
    return new HttpError(fe.statusCode, code, fe.message ?? 'bad request');
  }
  return new HttpError(500, 'internal', 'internal server error');
}

export async function buildServer(o: ServerOptions): Promise<FastifyInstance> {
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...Object.fromEntries(Object.entries(o).filter(([k, v]) => k in DEFAULT_LIMITS && v !== undefined)) };
  const app = Fastify({
    logger: { level: o.logLevel ?? 'warn' },
    bodyLimit: limits.maxBytes,
    requestTimeout: Math.max(60_000, 2 * limits.timeoutMs), // slow uploads cannot hold sockets forever
  });
  const queue = new InferenceQueue(limits);
  const heatmaps = new HeatmapStore(limits.heatmapEntries, limits.heatmapBytes);
  const metrics = new Metrics();
  const ui = loadUi();
  // POST /v1/update swaps a new version in: from then on `served()` is it. A request reads the model
  // once and runs to the end on that object, so requests in flight finish on the old one.
  let updated: PatchCore | null = null;
  const served = () => updated ?? o.model;
  const repository = o.repository ?? ModelRepository.single(o.modelName ?? 'patchcore', o.model);

  app.addContentTypeParser(RAW_TYPES, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  await app.register(multipart, { limits: { fileSize: limits.maxBytes, files: limits.maxFiles, fieldSize: 1024, fields: 32 } });

  app.setErrorHandler((e, req, reply) => {
    const he = toHttpError(e, limits.maxBytes);
    if (he.statusCode >= 500 && he.code === 'internal') req.log.error(e);
    void reply.code(he.statusCode).headers(he.headers).send({ statusCode: he.statusCode, code: he.code, message: he.message });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ statusCode: 404, code: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0].slice(0, 200)}` });
  });
  // Graceful close: fastify closes idle sockets once; a keep-alive socket busy at that moment must
  // close after its response, or close() would wait for the keep-alive timeout.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_req, reply) => {
    if (closing) void reply.header('connection', 'close');
  });
  app.addHook('onResponse', async (req, reply) => {
    metrics.request(req.routeOptions.url ?? 'unmatched', req.method, reply.statusCode, reply.elapsedTime / 1000);
  });

  for (const [route, f] of ui) app.get(route, (_req, reply) => reply.headers(UI_HEADERS).type(f.type).send(f.body));
  if (o.studio) {
    for (const [route, f] of loadSite(o.studio)) app.get(`/studio${route}`, (_req, reply) => reply.headers(SITE_HEADERS).type(f.type).send(f.body));
    app.get('/studio', (_req, reply) => reply.redirect('/studio/'));
  }
  app.get('/healthz', async (_req, reply) => {
    if (closing) void reply.code(503); // load balancers stop sending work while in-flight requests finish
    return { status: closing ? 'closing' : 'ok', backbone: served().config.backbone.id, inflight: queue.active, queued: queue.queued, ...o.station?.health() };
  });
  app.get('/metrics', (_req, reply) => {
    const text = metrics.render({
      patchcore_inference_active: ['Inferences running now.', queue.active],
      patchcore_inference_queued: ['Inferences waiting for a slot.', queue.queued],
      patchcore_heatmaps_stored: ['Heatmaps held in memory.', heatmaps.size],
    });
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(text + (o.station?.metrics.render() ?? ''));
  });

  await app.register(async (v1) => {
    if (o.token) v1.addHook('onRequest', bearerGuard(o.token));
    v1.get('/v1/model', async () => {
      const m = served();
      const c = m.config;
      return {
        model_id: m.modelId,
        backbone: c.backbone,
        preprocessing: c.preprocess,
        threshold: c.threshold,
        thresholdInfo: c.thresholdInfo,
        normalization: c.normalization,
        canSaveThreshold: !!(o.token && o.modelDir),
        limits,
        config: c,
      };
    });
    registerThreshold(v1, {
      get model() {
        return served();
      },
      modelDir: o.modelDir,
      token: o.token,
      onChange: (previous, source) => o.station?.thresholdChanged(previous, source),
    });
    registerFeedback(v1, {
      get model() {
        return served();
      },
      modelDir: o.repository ? undefined : o.modelDir, // a repository's versions are folders of their own: not updated in place
      token: o.token,
      store: o.station?.store ?? null,
      heatmaps,
      swap: (next, previous, source) => {
        updated = next;
        repository.replace(o.modelName ?? 'patchcore', next);
        o.station?.useModel(next, previous, source);
      },
    });
    if (o.station) registerStation(v1, o.station);
    v1.get<{ Params: { name: string } }>('/v1/heatmap/:name', async (req, reply) => {
      const id = /^(.*)\.png$/.exec(req.params.name)?.[1];
      const png = id && HEATMAP_ID.test(id) ? await heatmaps.get(id) : null;
      if (!png) throw new HttpError(404, 'not_found', 'no such heatmap (unknown id, or evicted from the recent-heatmap store)');
      return reply.type('image/png').header('cache-control', 'private, max-age=3600').send(png);
    });
    const station = o.station;
    const modelNamed = station ? (name: string) => station.current(name).model : undefined;
    registerPredict(v1, {
      get model() {
        return served();
      },
      modelNamed,
      station: station?.station,
      queue,
      heatmaps,
      metrics,
      maxBytes: limits.maxBytes,
      maxPixels: limits.maxPixels,
      maxFiles: limits.maxFiles,
    });
  });
  const { maxBytes, maxPixels, maxFiles: maxBatch } = limits;
  await registerV2(app, { repository, queue, maxBytes, maxPixels, maxBatch, guard: o.token ? bearerGuard(o.token) : undefined, isClosing: () => closing });
  if (o.station) {
    const station = o.station;
    await station.startWatching(queue);
    app.addHook('onClose', async () => station.close());
  }
  return app;
}
