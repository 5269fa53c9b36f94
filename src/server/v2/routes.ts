// The Open Inference Protocol (KServe v2) over HTTP, with Triton's binary_tensor_data extension:
// health, server and model metadata, readiness and inference for every model of the repository.
// Errors are {"error": "..."}, as the protocol says. Health needs no token (probes); the rest does.
import type { FastifyInstance, FastifyReply, onRequestHookHandler } from 'fastify';
import { HttpError } from '../http-error.js';
import type { ModelRepository, ServedModel } from '../repository.js';
import type { InferenceQueue } from '../queue.js';
import { TOOL } from '../../util/version.js';
import { HEADER_LENGTH, parseInferBody } from './body.js';
import { infer, tensorMetadata } from './infer.js';

export const EXTENSIONS = ['binary_tensor_data', 'model_repository_polling'];

export interface V2Context {
  repository: ModelRepository;
  queue: InferenceQueue;
  maxBytes: number;
  maxPixels: number;
  maxBatch: number;
  /** Bearer-token check, when the server has a token. */
  guard?: onRequestHookHandler;
  isClosing: () => boolean;
}

/** The error body and status for anything thrown under /v2. */
function v2Error(e: unknown, maxBytes: number): { status: number; body: { error: string }; headers: Record<string, string> } {
  if (e instanceof HttpError) return { status: e.statusCode, body: { error: e.message }, headers: e.headers };
  const fe = e as { statusCode?: number; code?: string; message?: string };
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { status: 413, body: { error: `request body exceeds ${maxBytes} bytes` }, headers: {} };
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500)
    return { status: fe.statusCode, body: { error: fe.message ?? 'bad request' }, headers: {} };
  return { status: 500, body: { error: 'internal server error' }, headers: {} };
}

const notFound = (message: string) => new HttpError(404, 'not_found', message);

export async function registerV2(app: FastifyInstance, ctx: V2Context): Promise<void> {
  await app.register(
    async (v2) => {
      // every body is read as bytes: JSON and binary tensor data share one parser
      v2.removeAllContentTypeParsers();
      v2.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: ctx.maxBytes }, (_req, body, done) => done(null, body));
      v2.setErrorHandler((e, req, reply) => {
        const r = v2Error(e, ctx.maxBytes);
        if (r.status >= 500) req.log.error(e);
        void reply.code(r.status).headers(r.headers).send(r.body);
      });
      // under /v2 only: the rest of the server keeps its own 404
      v2.setNotFoundHandler((req, reply) => void reply.code(404).send({ error: `no route ${req.method} ${req.url.split('?')[0].slice(0, 200)}` }));

      v2.get('/health/live', async () => ({ live: true }));
      // The spec's $ready_server_response names its field "live"; KServe's rest_predict_v2.yaml says "ready": both are sent.
      v2.get('/health/ready', async (_req, reply) => {
        const ready = !ctx.isClosing() && ctx.repository.allServing();
        return reply.code(ready ? 200 : 503).send({ live: true, ready });
      });

      await v2.register(async (api) => {
        if (ctx.guard) api.addHook('onRequest', ctx.guard);
        api.get('/', async () => ({ name: 'patchcore-ts', version: TOOL.version, extensions: EXTENSIONS }));

        type P = { Params: { model: string; version?: string } };
        const metadata = async (req: { params: P['Params'] }) => modelMetadata(ctx.repository, req.params.model, req.params.version);
        api.get<P>('/models/:model', metadata);
        api.get<P>('/models/:model/versions/:version', metadata);

        const ready = async (req: { params: P['Params'] }, reply: FastifyReply) => {
          const r = modelReady(ctx.repository, req.params.model, req.params.version);
          return reply.code(r.ready ? 200 : 400).send(r);
        };
        api.get<P>('/models/:model/ready', ready);
        api.get<P>('/models/:model/versions/:version/ready', ready);

        const run = async (req: { params: P['Params']; body: unknown; headers: Record<string, string | string[] | undefined> }, reply: FastifyReply) => {
          const served = resolve(ctx.repository, req.params.model, req.params.version);
          if (!Buffer.isBuffer(req.body) || req.body.length === 0) throw new HttpError(400, 'bad_request', 'request body is empty');
          const parsed = parseInferBody(req.body, req.headers[HEADER_LENGTH]);
          const r = await infer(served, parsed, {
            maxBatch: ctx.maxBatch,
            maxPixels: ctx.maxPixels,
            run: (job) => ctx.queue.run(job, served.name),
          });
          void reply.header('x-model-id', served.model.modelId);
          if (r.binary.length === 0) return r.json;
          const head = Buffer.from(JSON.stringify(r.json));
          return reply
            .type('application/octet-stream')
            .header('inference-header-content-length', String(head.length))
            .send(Buffer.concat([head, ...r.binary]));
        };
        api.post<P>('/models/:model/infer', run);
        api.post<P>('/models/:model/versions/:version/infer', run);
      });
    },
    { prefix: '/v2' },
  );
}

/** The served version, or 404 for an unknown model, an unknown version or one that is not loaded. */
function resolve(repo: ModelRepository, name: string, version?: string): ServedModel {
  if (!repo.has(name)) throw notFound(`unknown model '${name}' (models: ${repo.names().join(', ')})`);
  const served = repo.get(name);
  const failed = repo.versions(name).find((v) => v.state === 'failed' && (version === undefined || v.version === version));
  if (!served)
    throw new HttpError(
      503,
      'unavailable',
      `model '${name}' has no loaded version${failed ? `: version ${failed.version} failed to load: ${failed.error}` : ''}`,
    );
  if (version !== undefined && version !== served.version) {
    const v = repo.versions(name).find((s) => s.version === version);
    throw notFound(`model '${name}' version '${version}' is not served${v?.error ? ` (it failed to load: ${v.error})` : ''}; version ${served.version} is`);
  }
  return served;
}

function modelMetadata(repo: ModelRepository, name: string, version?: string) {
  const versions = repo.versions(name);
  const failed = versions.filter((v) => v.state === 'failed');
  const errors = Object.fromEntries(failed.map((v) => [v.version, v.error]));
  // a failed version named in the URL: its metadata is its error (it has no tensors)
  if (version !== undefined && failed.some((v) => v.version === version) && repo.get(name)?.version !== version)
    return { name, versions: [version], platform: 'patchcore-ts', inputs: [], outputs: [], parameters: { ready: false, load_errors: errors } };
  if (version === undefined && repo.has(name) && !repo.get(name))
    return { name, versions: [], platform: 'patchcore-ts', inputs: [], outputs: [], parameters: { ready: false, load_errors: errors } };
  const served = resolve(repo, name, version);
  const c = served.model.config;
  return {
    name,
    versions: [served.version],
    platform: 'patchcore-ts',
    ...tensorMetadata(served.model),
    parameters: {
      model_id: served.model.modelId,
      threshold: c.threshold,
      backbone: c.backbone.id,
      ready: true,
      ...(failed.length ? { load_errors: errors } : {}),
    },
  };
}

function modelReady(repo: ModelRepository, name: string, version?: string): { name: string; ready: boolean; error?: string } {
  if (!repo.has(name)) throw notFound(`unknown model '${name}'`);
  const served = repo.get(name);
  if (version === undefined) return { name, ready: served !== null };
  if (served?.version === version) return { name, ready: true };
  const v = repo.versions(name).find((s) => s.version === version);
  if (!v) throw notFound(`model '${name}' has no version '${version}'`);
  return { name, ready: false, ...(v.error ? { error: v.error } : {}) };
}
