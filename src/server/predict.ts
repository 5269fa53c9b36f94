// POST /v1/predict: raw image bytes or multipart files -> scores + heatmap links.
// Every image is checked from its header (format, dimensions) before any pixel is decoded.
import { randomUUID } from 'node:crypto';
import sharp, { type Metadata } from 'sharp';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { PatchCore } from '../model/patchcore.js';
import { decodeImage, MAX_SIDE } from '../image/load.js';
import type { PreprocessConfig, ScoreMap } from '../types.js';
import { geometry, inspectedBox } from '../image/preprocess.js';
import { HttpError } from './http-error.js';
import type { InferenceQueue } from './queue.js';
import type { HeatmapStore } from './heatmaps.js';
import type { Metrics } from './metrics.js';
import { mapRange } from '../report/overlay.js';
import type { Station } from './record/station.js';

export const RAW_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/tiff', 'application/octet-stream'];
const FORMATS = new Set(['png', 'jpeg', 'webp', 'tiff']); // no SVG/PDF: their decoders do far more than pixels

export interface PredictContext {
  /** The default model. */
  model: PatchCore;
  /** `?model=NAME`: another model of the repository (throws 404 for an unknown name). */
  modelNamed?: (name: string) => PatchCore;
  /** When set, each part is judged and recorded by the station (regions, --min-area, record). */
  station?: Station;
  queue: InferenceQueue;
  heatmaps: HeatmapStore;
  metrics: Metrics;
  maxBytes: number;
  maxPixels: number;
  maxFiles: number;
}

export interface Upload {
  name: string;
  bytes: Buffer;
}

/** Dimensions from the header only; 400 for non-images, 422 when too large to decode. */
export async function checkImage(u: Upload, maxPixels: number, pre: PreprocessConfig): Promise<void> {
  let meta: Metadata;
  try {
    meta = await sharp(u.bytes).metadata();
  } catch {
    throw new HttpError(400, 'not_an_image', `${u.name}: not a readable image (send PNG, JPEG, WebP or TIFF bytes)`);
  }
  if (!meta.format || !FORMATS.has(meta.format))
    throw new HttpError(400, 'unsupported_format', `${u.name}: image format '${meta.format}' is not accepted (PNG, JPEG, WebP, TIFF)`);
  const { width = 0, height = 0 } = meta;
  if (width < 1 || height < 1) throw new HttpError(400, 'not_an_image', `${u.name}: image has no size`);
  if (width * height > maxPixels || Math.max(width, height) > MAX_SIDE)
    throw new HttpError(422, 'image_too_large', `${u.name}: ${width}x${height} exceeds the limit of ${maxPixels} pixels (max side ${MAX_SIDE})`);
  // The shorter side is resized to `pre.resize`: a 1x16000 strip would become 224x3.6M pixels.
  const g = geometry(width, height, pre);
  if (g.resizedW * g.resizedH > maxPixels)
    throw new HttpError(
      422,
      'image_too_large',
      `${u.name}: ${width}x${height} is too elongated (resizes to ${g.resizedW}x${g.resizedH}, over ${maxPixels} pixels)`,
    );
}

async function readUploads(req: FastifyRequest, ctx: PredictContext): Promise<Upload[]> {
  if (!req.isMultipart()) {
    if (!Buffer.isBuffer(req.body))
      throw new HttpError(415, 'unsupported_media_type', `send the image as ${RAW_TYPES.slice(0, 2).join(' or ')} bytes, or multipart/form-data`);
    if (req.body.length === 0) throw new HttpError(400, 'empty_body', 'request body is empty');
    return [{ name: 'body', bytes: req.body }];
  }
  const files: Upload[] = [];
  let total = 0;
  try {
    for await (const part of req.parts()) {
      if (part.type !== 'file') continue;
      const bytes = await part.toBuffer();
      total += bytes.length;
      if (total > ctx.maxBytes) throw new HttpError(413, 'body_too_large', `request exceeds ${ctx.maxBytes} bytes`);
      files.push({ name: part.filename || `file ${files.length + 1}`, bytes });
    }
  } catch (e) {
    if (e instanceof HttpError) throw e;
    const { statusCode, code } = e as { statusCode?: number; code?: string };
    if (code === 'FST_FILES_LIMIT') throw new HttpError(413, 'too_many_files', `more than ${ctx.maxFiles} files in one request`);
    if (statusCode === 413) throw new HttpError(413, 'body_too_large', `${(e as Error).message} (limit: ${ctx.maxBytes} bytes per request)`);
    throw new HttpError(400, 'bad_multipart', `malformed multipart body: ${(e as Error).message}`);
  }
  if (files.length === 0) throw new HttpError(400, 'no_files', 'multipart body has no file parts');
  return files;
}

function mapSummary(m: ScoreMap) {
  const [min, max] = mapRange(m);
  return { width: m.width, height: m.height, min, max };
}

async function predictOne(u: Upload, ctx: PredictContext, model: PatchCore, modelName: string | undefined) {
  const t0 = performance.now();
  const img = await decodeImage(u.bytes, u.name); // UserError -> 400
  const judged = ctx.station ? await ctx.station.inspect({ bytes: u.bytes, img, name: u.name, camera: 'upload', model: modelName }) : null;
  const r = judged?.result ?? (await model.predict(img));
  ctx.metrics.inferenceTime((performance.now() - t0) / 1000);
  const id = judged?.row.id ?? randomUUID();
  // without a stored image in the record, the bytes stay here for a while so the part can be labelled
  const upload = judged?.row.image_path
    ? undefined
    : { bytes: u.bytes, name: u.name, modelId: r.modelId, score: r.score, anomalous: judged ? judged.row.verdict === 'fail' : r.anomalous };
  ctx.heatmaps.put(id, img, r.mapOriginal, r.score, r.threshold, upload);
  return {
    id, // names the result for its heatmap and for feedback
    score: r.score,
    normalized: r.normalized,
    threshold: r.threshold,
    anomalous: judged ? judged.row.verdict === 'fail' : r.anomalous,
    model_id: r.modelId,
    ...(judged && {
      verdict: judged.row.verdict,
      regions: judged.row.regions,
      min_area: judged.row.min_area,
      model: { name: judged.row.model_name, version: judged.row.model_version },
    }),
    image: { width: img.width, height: img.height },
    map: mapSummary(r.mapOriginal),
    inspected: inspectedBox(r.geometry),
    heatmap_url: `/v1/heatmap/${id}.png`,
    ms: Math.round(performance.now() - t0),
  };
}

export function registerPredict(app: FastifyInstance, ctx: PredictContext): void {
  app.post<{ Querystring: { model?: string } }>('/v1/predict', async (req, reply) => {
    const name = req.query.model || undefined;
    if (name !== undefined && !ctx.modelNamed)
      throw new HttpError(404, 'not_found', `this server judges with one model: leave out ?model= (received ${JSON.stringify(name.slice(0, 64))})`);
    const model = name === undefined ? ctx.model : ctx.modelNamed!(name);
    const uploads = await readUploads(req, ctx);
    for (const u of uploads) await checkImage(u, ctx.maxPixels, model.config.preprocess);
    // One queue slot per request: a batch runs its images back to back.
    const results = await ctx.queue.run(async () => {
      const out = [];
      for (const u of uploads) out.push(await predictOne(u, ctx, model, name));
      return out;
    });
    void reply.header('x-model-id', results[0].model_id); // the model that scored it, even if swapped since
    if (!req.isMultipart()) return results[0];
    return { results: results.map((r, i) => ({ filename: uploads[i].name, ...r })) };
  });
}
