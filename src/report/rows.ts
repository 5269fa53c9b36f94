// One result row per image, as predict streams it: CSV with fixed columns, or NDJSON.
import type { Region } from '../types.js';

export const CSV_COLUMNS = ['file', 'score', 'normalized', 'anomalous', 'threshold', 'model_id', 'ms', 'error'] as const;

export interface ResultRow {
  file: string;
  score: number | null;
  normalized: number | null;
  anomalous: boolean | null;
  threshold: number;
  model_id: string;
  ms: number;
  error: string | null;
  regions?: Region[];
  heatmap?: string;
  mask?: string;
}

/** A scored image's row (ms filled in by the caller, which times it). */
export function scoredRow(file: string, r: { score: number; normalized: number; anomalous: boolean; threshold: number; modelId: string }): ResultRow {
  return { file, score: r.score, normalized: r.normalized, anomalous: r.anomalous, threshold: r.threshold, model_id: r.modelId, ms: 0, error: null };
}

const csvField = (v: unknown): string => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export const csvHeader = (): string => CSV_COLUMNS.join(',') + '\n';

export function csvLine(r: ResultRow): string {
  return CSV_COLUMNS.map((c) => csvField(r[c])).join(',') + '\n';
}
