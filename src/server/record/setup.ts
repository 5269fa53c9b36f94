// The station's services around one server: the record, the outputs, monitoring and watched
// folders, opened together and closed in order (stop taking files, finish sends, close the record).
import * as path from 'node:path';
import type { PatchCore } from '../../model/patchcore.js';
import { UserError } from '../../util/errors.js';
import { StationMetrics } from '../monitor/station-metrics.js';
import { MqttSink } from '../outputs/mqtt.js';
import { WebhookSink, WEBHOOK_DEFAULTS, type WebhookOptions } from '../outputs/webhook.js';
import type { InferenceQueue } from '../queue.js';
import { FolderWatcher } from '../watch/watcher.js';
import { Station, type ServedModel } from './station.js';
import { ResultStore } from './store.js';

export interface StationConfig {
  model: PatchCore;
  /** How the station names the model in rows and metrics (the model directory's name). */
  modelName: string;
  station: string;
  /** Folder of results.sqlite and the stored images; null keeps no record (and allows no outputs). */
  recordDir: string | null;
  keepImages: number;
  minArea?: number;
  mqtt?: { url: string; topic: string };
  webhook?: string | Partial<WebhookOptions> & { url: string };
  watch?: { dir: string; model?: string; camera?: string }[];
  watchStableMs?: number;
  driftWindow?: number;
  log?: (line: string) => void;
}

export class StationServices {
  readonly station: Station;
  readonly metrics: StationMetrics;
  readonly watchers: FolderWatcher[] = [];
  private readonly sinks: (MqttSink | WebhookSink)[] = [];
  private overrides = 0;
  private updated: PatchCore | null = null;

  private constructor(
    readonly cfg: StationConfig,
    readonly store: ResultStore | null,
  ) {
    this.metrics = new StationMetrics(cfg.driftWindow);
    if (store) this.overrides = store.thresholdChanges(cfg.modelName).length;
    this.station = new Station({ current: () => this.current(), station: cfg.station, store, minArea: cfg.minArea, keepImages: cfg.keepImages, sinks: this.sinks, observer: this.metrics });
    this.metrics.model(this.current());
    this.metrics.watchBacklog = () => this.watchers.reduce((a, w) => a + w.backlog, 0);
  }

  static open(cfg: StationConfig): StationServices {
    if (!cfg.recordDir && (cfg.mqtt || cfg.webhook || cfg.watch?.length))
      throw new UserError('the station needs its record to send results onwards or to watch folders: give a record folder');
    for (const w of cfg.watch ?? [])
      if (w.model !== undefined && w.model !== cfg.modelName) throw new UserError(`watch ${w.dir}: no model named ${JSON.stringify(w.model)} here (this server holds ${JSON.stringify(cfg.modelName)})`);
    const s = new StationServices(cfg, cfg.recordDir ? new ResultStore(cfg.recordDir) : null);
    if (s.store && cfg.mqtt) s.sinks.push(MqttSink.open(s.store, { ...cfg.mqtt, station: cfg.station, status: () => s.health() }, s.metrics));
    if (s.store && cfg.webhook) {
      const w = typeof cfg.webhook === 'string' ? { url: cfg.webhook } : cfg.webhook;
      s.sinks.push(new WebhookSink(s.store, { ...WEBHOOK_DEFAULTS, ...w }, s.metrics));
    }
    for (const k of s.sinks) k.wake(); // results left pending by the last run
    return s;
  }

  /** The single served model; a model repository replaces this at merge. */
  current(): ServedModel {
    return { model: this.updated ?? this.cfg.model, name: this.cfg.modelName, version: `v${1 + this.overrides}` };
  }

  /** An update's new version judges the parts from now on (POST /v1/update); recorded as a new version. */
  useModel(next: PatchCore, previousThreshold: number, source: string): void {
    this.updated = next;
    this.thresholdChanged(previousThreshold, source);
  }

  /** Starts the watched folders, sharing the server's inference queue. */
  async startWatching(queue?: InferenceQueue): Promise<void> {
    for (const w of this.cfg.watch ?? []) {
      const fw = new FolderWatcher({ dir: w.dir, camera: w.camera ?? path.basename(path.resolve(w.dir)), station: this.station, queue, stableMs: this.cfg.watchStableMs, log: this.cfg.log });
      this.watchers.push(fw);
      await fw.start();
    }
  }

  /** A threshold change is a new version from now on; parts already judged keep theirs. */
  thresholdChanged(previous: number, source: string): void {
    this.overrides++;
    const s = this.current();
    this.store?.recordThreshold({ time: new Date().toISOString(), model_name: s.name, version: s.version, threshold: s.model.threshold, previous, model_id: s.model.modelId, source });
  }

  health() {
    const s = this.current();
    return { station: this.cfg.station, models: [{ name: s.name, version: s.version, model_id: s.model.modelId, threshold: s.model.threshold }] };
  }

  info() {
    const s = this.current();
    const c = s.model.config;
    return {
      ...this.health(),
      min_area: this.cfg.minArea ?? null,
      recording: this.store !== null,
      fitted_on: c.trainingData?.images ?? null,
      threshold_sample: c.trainScores.n,
      threshold_info: c.thresholdInfo,
      threshold_changes: this.store?.thresholdChanges(s.name) ?? [],
      drift: this.metrics.drift(s.name),
      watch: this.watchers.map((w) => ({ dir: w.o.dir, camera: w.o.camera, backlog: w.backlog, processed: w.processed, failed: w.failed })),
    };
  }

  async close(): Promise<void> {
    for (const w of this.watchers) await w.close();
    for (const k of this.sinks) await k.close();
    this.store?.close();
  }
}
