// Recent heatmaps, kept in memory and bounded by count and bytes (least recently used goes first).
// The overlay PNG is rendered on first request: clients that never fetch a heatmap cost no encoding.
import type { RgbImage, ScoreMap } from '../types.js';
import { overlayPng } from '../report/overlay.js';

/** A scored upload's own bytes, kept where no record holds them, so the part can be labelled. */
export interface RecentUpload {
  bytes: Uint8Array;
  name: string;
  modelId: string;
  score: number;
  anomalous: boolean;
}

interface Entry {
  source?: { img: RgbImage; map: ScoreMap; score: number; threshold: number };
  upload?: RecentUpload;
  png?: Promise<Buffer>;
  bytes: number;
}

export const HEATMAP_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class HeatmapStore {
  private readonly entries = new Map<string, Entry>(); // Map keeps insertion order: first = oldest
  private total = 0;

  constructor(
    readonly maxEntries: number,
    readonly maxBytes: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  put(id: string, img: RgbImage, map: ScoreMap, score: number, threshold: number, upload?: RecentUpload): void {
    const bytes = img.data.byteLength + map.data.byteLength + (upload?.bytes.byteLength ?? 0);
    this.entries.set(id, { source: { img, map, score, threshold }, bytes, ...(upload && { upload }) });
    this.total += bytes;
    this.evict();
  }

  /** The upload kept with `put`, or null for an unknown or evicted id. */
  upload(id: string): RecentUpload | null {
    return this.entries.get(id)?.upload ?? null;
  }

  /** The overlay PNG, or null for an unknown or evicted id. */
  async get(id: string): Promise<Buffer | null> {
    const e = this.entries.get(id);
    if (!e) return null;
    this.entries.delete(id); // move to the most recent end
    this.entries.set(id, e);
    if (!e.png) {
      const s = e.source!;
      e.png = overlayPng(s.img, s.map, { score: s.score, threshold: s.threshold });
      const png = await e.png;
      e.source = undefined;
      if (this.entries.get(id) === e) this.resize(e, png.byteLength); // unless evicted meanwhile
    }
    return e.png;
  }

  private resize(e: Entry, bytes: number): void {
    this.total += bytes - e.bytes;
    e.bytes = bytes;
    this.evict();
  }

  private evict(): void {
    for (const [id, e] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.total <= this.maxBytes) break;
      if (this.entries.size === 1) break; // always keep the newest, even if alone it is over budget
      this.entries.delete(id);
      this.total -= e.bytes;
    }
  }
}
