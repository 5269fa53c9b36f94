// One part through the station: score, regions at --min-area, verdict at the threshold in force,
// then the record (row + image + heatmap on disk) and the outputs (MQTT, webhook) and monitoring.
// Written against `current()`, so a multi-model repository can hand in whichever model serves.
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { PatchCore } from '../../model/patchcore.js';
import type { PredictResult, RgbImage } from '../../types.js';
import { regionsOf } from '../../model/regions.js';
import { heatScale, overlayPng } from '../../report/overlay.js';
import { writeFileAtomic } from '../../util/atomic.js';
import type { ResultRow, ResultStore } from './store.js';

export interface ServedModel {
  model: PatchCore;
  name: string;
  version: string;
}

/** Anything that takes results onwards (MQTT, webhook); it must never block or throw. */
export interface ResultSink {
  readonly kind: 'mqtt' | 'webhook';
  wake(): void;
}

export interface StationObserver {
  observe(row: ResultRow, model: ServedModel): void;
}

export interface StationOptions {
  /** The model `name` as it serves now (default: the default model); throws for an unknown name. */
  current: (name?: string) => ServedModel;
  station: string;
  store: ResultStore | null;
  minArea?: number;
  /** Rows whose image and heatmap stay on disk; older ones lose their files. */
  keepImages: number;
  sinks?: ResultSink[];
  observer?: StationObserver;
}

export interface Part {
  bytes: Uint8Array;
  img: RgbImage;
  name: string;
  camera: string;
  /** Identifies a watched file across restarts; null for uploads. */
  sourceKey?: string | null;
  /** The model to judge it with (a repository's model name); default: the default model. */
  model?: string;
}

export interface Inspection {
  row: ResultRow;
  result: PredictResult;
  /** False when the part's sourceKey was recorded before (nothing new was written). */
  fresh: boolean;
}

export const EXT: Record<string, string> = { png: '.png', jpeg: '.jpg', webp: '.webp', tiff: '.tif' };

export { heatScale };

export class Station {
  constructor(readonly o: StationOptions) {}

  /** Judge an already decoded part with the model in force now, and record it. */
  async inspect(p: Part): Promise<Inspection> {
    const served = this.o.current(p.model);
    const { model } = served;
    const result = await model.predict(p.img);
    const minArea = this.o.minArea ?? null;
    let regions = null;
    let anomalous = result.anomalous;
    if (model.pixelThreshold !== null) {
      regions = regionsOf(result.mapOriginal, model.pixelThreshold, minArea ?? 1).regions;
      if (minArea !== null) anomalous = regions.length > 0; // as `predict --min-area`: the verdict follows the regions
    }
    const id = randomUUID();
    const row: ResultRow = {
      id,
      time: new Date().toISOString(),
      station: this.o.station,
      camera: p.camera,
      source: p.name,
      model_name: served.name,
      model_version: served.version,
      model_id: result.modelId,
      threshold: result.threshold,
      min_area: minArea,
      score: result.score,
      normalized: result.normalized,
      verdict: anomalous ? 'fail' : 'pass',
      regions,
      label: null,
      image_path: null,
      heatmap_path: null,
    };
    let fresh = true;
    const store = this.o.store;
    if (store) {
      if (p.sourceKey && store.hasSource(p.sourceKey)) return { row, result, fresh: false };
      await this.saveFiles(row, p, result, model);
      fresh = store.insert(row, p.sourceKey ?? null, { mqtt: this.has('mqtt'), webhook: this.has('webhook') });
      if (!fresh) await this.removeFiles(row);
      else await this.expire(store);
    }
    if (fresh) {
      this.o.observer?.observe(row, served);
      for (const s of this.o.sinks ?? []) s.wake();
    }
    return { row, result, fresh };
  }

  private has(kind: ResultSink['kind']): boolean {
    return (this.o.sinks ?? []).some((s) => s.kind === kind);
  }

  private async saveFiles(row: ResultRow, p: Part, r: PredictResult, model: PatchCore): Promise<void> {
    if (this.o.keepImages <= 0) return;
    const dir = path.join(this.o.store!.dir, 'images', row.time.slice(0, 10));
    const sharp = (await import('sharp')).default;
    const format = (await sharp(p.bytes).metadata()).format ?? 'png';
    row.image_path = path.join(dir, `${row.id}${EXT[format] ?? '.img'}`);
    row.heatmap_path = path.join(dir, `${row.id}_heatmap.png`);
    const scale = model.pixelThreshold !== null ? heatScale(model.pixelThreshold) : {};
    const heat = await overlayPng(p.img, r.mapOriginal, { score: r.score, threshold: r.threshold, ...scale });
    await writeFileAtomic(row.image_path, p.bytes);
    await writeFileAtomic(row.heatmap_path, heat);
  }

  private async removeFiles(row: ResultRow): Promise<void> {
    for (const f of [row.image_path, row.heatmap_path]) if (f) await fs.rm(f, { force: true });
  }

  private async expire(store: ResultStore): Promise<void> {
    for (const f of store.expireImages(this.o.keepImages)) await fs.rm(f, { force: true });
  }
}
