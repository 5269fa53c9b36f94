// The station's record: every result, the threshold it was judged at, and where it was sent, in one
// SQLite file. WAL journal: a process killed mid-write loses only the transaction in flight.
// Rows are never re-judged; only the operator's label and the delivery states change later.
import Database from 'better-sqlite3';
import * as path from 'node:path';
import { mkdirSync } from 'node:fs';
import type { Region } from '../../types.js';

export type Verdict = 'pass' | 'fail';
/** null: no such sink configured; 0 waiting; 1 delivered; 2 given up. */
export type Delivery = 0 | 1 | 2 | null;

export interface ResultRow {
  id: string;
  time: string;
  station: string;
  camera: string;
  source: string;
  model_name: string;
  model_version: string;
  model_id: string;
  threshold: number;
  min_area: number | null;
  score: number;
  normalized: number;
  verdict: Verdict;
  regions: Region[] | null;
  label: 'good' | 'defect' | null;
  image_path: string | null;
  heatmap_path: string | null;
}

export interface ResultFilter {
  from?: string;
  to?: string;
  model?: string;
  verdict?: Verdict;
  /** Rows before this seq (paging backwards from the newest). */
  before?: number;
  limit: number;
}

export interface ThresholdChange {
  time: string;
  model_name: string;
  version: string;
  threshold: number;
  previous: number;
  model_id: string;
  source: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS results (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  source_key TEXT UNIQUE,
  time TEXT NOT NULL,
  station TEXT NOT NULL,
  camera TEXT NOT NULL,
  source TEXT NOT NULL,
  model_name TEXT NOT NULL,
  model_version TEXT NOT NULL,
  model_id TEXT NOT NULL,
  threshold REAL NOT NULL,
  min_area INTEGER,
  score REAL NOT NULL,
  normalized REAL NOT NULL,
  verdict TEXT NOT NULL CHECK (verdict IN ('pass', 'fail')),
  regions TEXT,
  label TEXT CHECK (label IN ('good', 'defect')),
  label_time TEXT,
  image_path TEXT,
  heatmap_path TEXT,
  mqtt INTEGER,
  webhook INTEGER
);
CREATE INDEX IF NOT EXISTS results_time ON results (time);
CREATE INDEX IF NOT EXISTS results_pending ON results (seq) WHERE mqtt = 0 OR webhook = 0;
CREATE TABLE IF NOT EXISTS thresholds (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  time TEXT NOT NULL,
  model_name TEXT NOT NULL,
  version TEXT NOT NULL,
  threshold REAL NOT NULL,
  previous REAL NOT NULL,
  model_id TEXT NOT NULL,
  source TEXT NOT NULL
);
-- the MQTT client's packets in flight (QoS 2): resent under their packet id after a restart
CREATE TABLE IF NOT EXISTS mqtt_outgoing (
  message_id INTEGER PRIMARY KEY,
  result_id TEXT,
  packet TEXT NOT NULL,
  payload BLOB
);`;

const COLUMNS =
  'seq, id, time, station, camera, source, model_name, model_version, model_id, threshold, min_area, score, normalized, verdict, regions, label, image_path, heatmap_path';

type Raw = Omit<ResultRow, 'regions'> & { seq: number; regions: string | null };
const parse = (r: Raw) => ({ ...r, regions: r.regions === null ? null : (JSON.parse(r.regions) as Region[]) });

export class ResultStore {
  readonly db: Database.Database;

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.db = new Database(path.join(dir, 'results.sqlite'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL'); // WAL + NORMAL: durable across a process crash, not a power cut
    this.db.exec(SCHEMA);
  }

  close(): void {
    this.db.close();
  }

  /** Inserts one result; false when `sourceKey` was already recorded (a file seen again after a restart). */
  insert(r: ResultRow, sourceKey: string | null, sinks: { mqtt: boolean; webhook: boolean }): boolean {
    const info = this.db
      .prepare(
        `INSERT OR IGNORE INTO results (id, source_key, time, station, camera, source, model_name, model_version, model_id, threshold, min_area, score, normalized, verdict, regions, label, image_path, heatmap_path, mqtt, webhook)
         VALUES (@id, @source_key, @time, @station, @camera, @source, @model_name, @model_version, @model_id, @threshold, @min_area, @score, @normalized, @verdict, @regions, @label, @image_path, @heatmap_path, @mqtt, @webhook)`,
      )
      .run({
        ...r,
        source_key: sourceKey,
        regions: r.regions === null ? null : JSON.stringify(r.regions),
        mqtt: sinks.mqtt ? 0 : null,
        webhook: sinks.webhook ? 0 : null,
      });
    return info.changes === 1;
  }

  hasSource(sourceKey: string): boolean {
    return this.db.prepare('SELECT 1 FROM results WHERE source_key = ?').get(sourceKey) !== undefined;
  }

  get(id: string): (ResultRow & { seq: number }) | null {
    const r = this.db.prepare(`SELECT ${COLUMNS} FROM results WHERE id = ?`).get(id) as Raw | undefined;
    return r ? parse(r) : null;
  }

  query(f: ResultFilter): (ResultRow & { seq: number })[] {
    const where: string[] = [];
    const args: Record<string, unknown> = { limit: f.limit };
    if (f.from !== undefined) where.push('time >= @from'), (args.from = f.from);
    if (f.to !== undefined) where.push('time < @to'), (args.to = f.to);
    if (f.model !== undefined) where.push('(model_name = @model OR model_id = @model)'), (args.model = f.model);
    if (f.verdict !== undefined) where.push('verdict = @verdict'), (args.verdict = f.verdict);
    if (f.before !== undefined) where.push('seq < @before'), (args.before = f.before);
    const sql = `SELECT ${COLUMNS} FROM results ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT @limit`;
    return (this.db.prepare(sql).all(args) as Raw[]).map(parse);
  }

  /** The operator's label; the verdict itself stays as judged. */
  setLabel(id: string, label: 'good' | 'defect'): boolean {
    return this.db.prepare('UPDATE results SET label = ?, label_time = ? WHERE id = ?').run(label, new Date().toISOString(), id).changes === 1;
  }

  /** Results still to be sent to `sink`, oldest first; MQTT messages already in the client's store are the client's to resend. */
  pending(sink: 'mqtt' | 'webhook', limit = 100): (ResultRow & { seq: number })[] {
    const inFlight = sink === 'mqtt' ? ' AND id NOT IN (SELECT result_id FROM mqtt_outgoing WHERE result_id IS NOT NULL)' : '';
    return (this.db.prepare(`SELECT ${COLUMNS} FROM results WHERE ${sink} = 0${inFlight} ORDER BY seq LIMIT ?`).all(limit) as Raw[]).map(parse);
  }

  delivered(sink: 'mqtt' | 'webhook', id: string, state: 1 | 2): void {
    this.db.prepare(`UPDATE results SET ${sink} = ? WHERE id = ?`).run(state, id);
  }

  recordThreshold(c: ThresholdChange): void {
    this.db
      .prepare(
        'INSERT INTO thresholds (time, model_name, version, threshold, previous, model_id, source) VALUES (@time, @model_name, @version, @threshold, @previous, @model_id, @source)',
      )
      .run(c);
  }

  thresholdChanges(modelName: string): ThresholdChange[] {
    return this.db
      .prepare('SELECT time, model_name, version, threshold, previous, model_id, source FROM thresholds WHERE model_name = ? ORDER BY seq')
      .all(modelName) as ThresholdChange[];
  }

  /** Image files of the oldest rows beyond the newest `keep`; their paths are cleared in the same step. */
  expireImages(keep: number): string[] {
    const old = this.db
      .prepare(
        'SELECT id, image_path, heatmap_path FROM results WHERE (image_path IS NOT NULL OR heatmap_path IS NOT NULL) AND seq <= (SELECT seq FROM results ORDER BY seq DESC LIMIT 1 OFFSET ?)',
      )
      .all(keep) as { id: string; image_path: string | null; heatmap_path: string | null }[];
    if (old.length === 0) return [];
    const clear = this.db.prepare('UPDATE results SET image_path = NULL, heatmap_path = NULL WHERE id = ?');
    this.db.transaction(() => {
      for (const r of old) clear.run(r.id);
    })();
    return old.flatMap((r) => [r.image_path, r.heatmap_path].filter((p): p is string => p !== null));
  }
}
