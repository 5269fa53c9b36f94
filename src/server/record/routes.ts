// GET /v1/results: the record, newest first, filtered by time, model and verdict, paged by `before`
// (the last row's seq), as JSON or CSV; the stored image and heatmap of a row; the operator's label.
import { createReadStream } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { HttpError } from '../http-error.js';
import type { ResultFilter, ResultRow, ResultStore } from './store.js';

const MAX_PAGE = 1000;
const CSV_COLUMNS = [
  'seq',
  'id',
  'time',
  'station',
  'camera',
  'source',
  'model_name',
  'model_version',
  'model_id',
  'threshold',
  'min_area',
  'score',
  'normalized',
  'verdict',
  'regions',
  'label',
] as const;

type Query = Record<string, string | undefined>;

function bad(name: string, expected: string, value: string): HttpError {
  return new HttpError(400, 'bad_input', `Expected ${expected} for ${name} but received ${JSON.stringify(value)}`);
}

function isoTime(name: string, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  if (!Number.isFinite(t)) throw bad(name, 'an ISO 8601 time', v);
  return new Date(t).toISOString();
}

function positive(name: string, v: string | undefined, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) throw bad(name, `an integer from 1 to ${max}`, v);
  return n;
}

export function parseFilter(q: Query): ResultFilter & { format: 'json' | 'csv' } {
  const verdict = q.verdict;
  if (verdict !== undefined && verdict !== 'pass' && verdict !== 'fail') throw bad('verdict', '"pass" or "fail"', verdict);
  const format = q.format ?? 'json';
  if (format !== 'json' && format !== 'csv') throw bad('format', '"json" or "csv"', format);
  return {
    from: isoTime('from', q.from),
    to: isoTime('to', q.to),
    model: q.model || undefined,
    verdict,
    before: positive('before', q.before, 2 ** 53 - 1),
    limit: positive('limit', q.limit, MAX_PAGE) ?? 50,
    format,
  };
}

const csvCell = (v: unknown) => {
  const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n\r]/.test(s) || /^[=+\-@]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s; // quoted; no formula injection into spreadsheets
};

export function toCsv(rows: (ResultRow & { seq: number })[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of rows) lines.push(CSV_COLUMNS.map((c) => csvCell(r[c])).join(','));
  return lines.join('\n') + '\n';
}

const publicRow = ({ image_path, heatmap_path, ...r }: ResultRow & { seq: number }) => ({
  ...r,
  image_url: image_path ? `/v1/results/${r.id}/image` : null,
  heatmap_url: heatmap_path ? `/v1/results/${r.id}/heatmap` : null,
});

export function registerResults(app: FastifyInstance, store: ResultStore): void {
  app.get<{ Querystring: Query }>('/v1/results', async (req, reply) => {
    const f = parseFilter(req.query);
    const rows = store.query(f);
    if (f.format === 'csv') return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="results.csv"').send(toCsv(rows));
    const last = rows.at(-1);
    return { results: rows.map(publicRow), next: rows.length === f.limit && last ? last.seq : null };
  });
  app.get<{ Params: { id: string; kind: string } }>('/v1/results/:id/:kind', async (req, reply) => {
    const { id, kind } = req.params;
    if (kind !== 'image' && kind !== 'heatmap') throw new HttpError(404, 'not_found', `no route GET /v1/results/:id/${kind.slice(0, 40)}`);
    const row = store.get(id);
    const file = row && (kind === 'image' ? row.image_path : row.heatmap_path);
    if (!file) throw new HttpError(404, 'not_found', row ? `the ${kind} of result ${id} is past the retention limit` : `no result ${id.slice(0, 64)}`);
    const type = kind === 'heatmap' || file.endsWith('.png') ? 'image/png' : file.endsWith('.jpg') ? 'image/jpeg' : 'application/octet-stream';
    return reply.type(type).header('cache-control', 'private, max-age=86400').send(createReadStream(file));
  });
  app.put<{ Params: { id: string }; Body: unknown }>('/v1/results/:id/label', async (req) => {
    const label = (req.body as { label?: unknown } | null)?.label;
    if (label !== 'good' && label !== 'defect')
      throw new HttpError(400, 'bad_input', `Expected "good" or "defect" for label but received ${JSON.stringify(label) ?? 'nothing'}`);
    if (!store.setLabel(req.params.id, label)) throw new HttpError(404, 'not_found', `no result ${req.params.id.slice(0, 64)}`);
    return publicRow(store.get(req.params.id)!);
  });
}
