// Feedback from the station: POST /v1/feedback labels a part the server scored (good or defect) into
// the model directory's feedback folder; POST /v1/update adds the waiting good ones to the bank
// (model/update.ts), saves the new version over the old (kept under versions/) and swaps it in;
// GET /v1/feedback is the page's status line. Like PUT /v1/threshold, only a server with a token
// and a model directory may change the model: otherwise 403.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import type { FastifyInstance } from 'fastify';
import type { PatchCore } from '../model/patchcore.js';
import { isResultId, labelImage, listLabels, markLabels, recordLabel, waitingGoods, type FeedbackKind, type FeedbackLabel } from '../model/feedback.js';
import { errorMessage, UserError } from '../util/errors.js';
import { HttpError } from './http-error.js';
import type { HeatmapStore } from './heatmaps.js';
import type { ResultStore } from './record/store.js';
import { EXT } from './record/station.js';

export interface FeedbackContext {
  /** The model serving now (a getter: it changes with each update). */
  readonly model: PatchCore;
  modelDir?: string;
  token?: string;
  /** The station's record, when it keeps one: rows and their stored images. */
  store: ResultStore | null;
  /** Recent results whose bytes no record holds. */
  heatmaps: HeatmapStore;
  /** Serve `next` from now on (the record notes a new version); requests already running keep the model they started with. */
  swap(next: PatchCore, previousThreshold: number, source: string): void;
}

const forbidden = () =>
  new HttpError(
    403,
    'read_only',
    'this server cannot change the model: start it with --token and --model DIR (a folder, without --threshold) to take feedback',
  );

/** The scored part behind a result id: its bytes and what the server said; 404 when unknown or expired. */
async function scoredPart(ctx: FeedbackContext, id: string) {
  const row = ctx.store?.get(id) ?? null;
  if (row?.image_path) {
    const bytes = await fs.readFile(row.image_path).catch(() => null);
    if (!bytes) throw new HttpError(404, 'expired', `the image of result ${id} is no longer stored`);
    return { bytes, ext: path.extname(row.image_path), model_id: row.model_id, score: row.score, verdict: row.verdict, source: row.source };
  }
  const u = ctx.heatmaps.upload(id);
  if (!u)
    throw new HttpError(
      404,
      row ? 'expired' : 'not_found',
      row ? `the image of result ${id} is no longer stored` : `no result ${id} (unknown, or expired from the recent results)`,
    );
  const format = (await sharp(u.bytes).metadata()).format ?? 'png';
  return {
    bytes: u.bytes,
    ext: EXT[format] ?? '.img',
    model_id: u.modelId,
    score: u.score,
    verdict: u.anomalous ? ('fail' as const) : ('pass' as const),
    source: u.name,
  };
}

async function status(ctx: FeedbackContext, updating: boolean) {
  const m = ctx.model;
  const base = { model_id: m.modelId, parent: m.config.parent ?? null, threshold: m.threshold };
  if (!ctx.token || !ctx.modelDir) return { enabled: false, ...base };
  const labels = await listLabels(ctx.modelDir);
  const count = (f: (l: FeedbackLabel) => boolean) => labels.filter(f).length;
  return {
    enabled: true,
    ...base,
    updating,
    waiting: waitingGoods(labels).length,
    labels: {
      good: count((l) => l.label === 'good'),
      defect: count((l) => l.label === 'defect'),
      applied: count((l) => !!l.applied),
      failed: count((l) => !!l.failed),
    },
  };
}

export function registerFeedback(app: FastifyInstance, ctx: FeedbackContext): void {
  let updating: Promise<unknown> | null = null;

  app.get('/v1/feedback', async () => status(ctx, updating !== null));

  app.post<{ Body: unknown }>('/v1/feedback', async (req, reply) => {
    if (!ctx.token || !ctx.modelDir) throw forbidden();
    const body = req.body as { id?: unknown; label?: unknown } | null;
    const label = body?.label;
    if (label !== 'good' && label !== 'defect')
      throw new HttpError(400, 'bad_input', `Expected "good" or "defect" for label but received ${JSON.stringify(label) ?? 'nothing'}`);
    if (!isResultId(body?.id))
      throw new HttpError(404, 'not_found', `no result ${JSON.stringify(body?.id)?.slice(0, 64) ?? 'nothing'} (send the id a predict response gave)`);
    const id = body.id;
    const part = await scoredPart(ctx, id);
    let recorded: boolean;
    try {
      recorded = await recordLabel(
        ctx.modelDir,
        {
          id,
          label: label as FeedbackKind,
          model_id: part.model_id,
          score: part.score,
          verdict: part.verdict,
          source: part.source,
          time: new Date().toISOString(),
        },
        part.bytes,
        part.ext,
      );
    } catch (e) {
      if (e instanceof UserError) throw new HttpError(409, 'conflict', e.message);
      throw e;
    }
    ctx.store?.setLabel(id, label);
    void reply.code(recorded ? 201 : 200);
    return { id, label, model_id: part.model_id, recorded, waiting: waitingGoods(await listLabels(ctx.modelDir)).length };
  });

  app.post('/v1/update', async (_req, reply) => {
    if (!ctx.token || !ctx.modelDir) throw forbidden();
    if (updating) throw new HttpError(409, 'busy', 'an update is already running');
    const run = applyGoods(ctx, ctx.modelDir);
    updating = run;
    try {
      const r = await run;
      if (r.status !== 200) void reply.code(r.status);
      return r.body;
    } finally {
      updating = null;
    }
  });
}

/** The waiting good labels through update, saved over the old version, then swapped in. */
async function applyGoods(ctx: FeedbackContext, dir: string) {
  const waiting = waitingGoods(await listLabels(dir));
  if (waiting.length === 0) throw new HttpError(409, 'nothing_to_apply', 'no good labels are waiting');
  const old = ctx.model;
  const names = waiting.map((l) => path.posix.join('feedback', 'good', l.image));
  const byName = new Map(names.map((n, i) => [n, waiting[i]]));
  let r: Awaited<ReturnType<PatchCore['update']>>;
  try {
    r = await old.update(
      waiting.map((l) => labelImage(dir, l)),
      { names },
    );
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    // nothing could be read: every label is marked, the served and saved model stay as they were
    const error = errorMessage(e);
    await markLabels(dir, waiting, { failed: { error, time: new Date().toISOString() } });
    return {
      status: 422,
      body: { statusCode: 422, code: 'unreadable', message: error, model_id: old.modelId, applied: [], failed: waiting.map((l) => ({ id: l.id, error })) },
    };
  }
  const time = new Date().toISOString();
  for (const f of r.failed) await markLabels(dir, [byName.get(f.file)!], { failed: { error: f.error, time } });
  const next = r.model!;
  try {
    await next.saveOverParent(dir); // the new bank, then model.json, each atomic; the old one kept in versions/
  } catch (e) {
    // model.json changed meanwhile (a threshold saved from the page): nothing written, labels still wait
    if (e instanceof UserError) throw new HttpError(409, 'conflict', `${errorMessage(e)}; apply again`);
    throw e;
  }
  const applied = r.images.map((x) => byName.get(x.file)!);
  ctx.swap(next, old.threshold, `update: ${applied.length} good label(s)`);
  await markLabels(dir, applied, { applied: { model_id: next.modelId, time } });
  return {
    status: 200,
    body: {
      model_id: next.modelId,
      parent: old.modelId,
      bank: { before: old.config.bank.size, after: next.config.bank.size },
      threshold: { before: old.threshold, after: next.threshold, how: next.config.update?.threshold },
      applied: r.images.map((x) => ({ id: byName.get(x.file)!.id, entries: x.entries, score: x.score })),
      failed: r.failed.map((f) => ({ id: byName.get(f.file)!.id, error: f.error })),
    },
  };
}
