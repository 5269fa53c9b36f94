// The station's services around one server: the record, the outputs, monitoring and watched
// folders, opened together and closed in order (stop taking files, finish sends, close the record).
import * as path from 'node:path';
import type { PatchCore } from '../../model/patchcore.js';
import { UserError } from '../../util/errors.js';
import { HttpError } from '../http-error.js';
import { StationMetrics } from '../monitor/station-metrics.js';
import type { ModelRepository } from '../repository.js';
import { MqttSink } from '../outputs/mqtt.js';
import { WebhookSink, WEBHOOK_DEFAULTS, type WebhookOptions } from '../outputs/webhook.js';
import type { InferenceQueue } from '../queue.js';
import { FolderWatcher } from '../watch/watcher.js';
import { Station, type ServedModel } from './station.js';
import { ResultStore } from './store.js';

export interface StationConfig {
  /** The default model (the one /v1 serves; may be a getter following the repository's reloads). */
  model: PatchCore;
  /** How the station names the default model in rows and metrics (the model directory's name). */
  modelName: string;
  /** `serve --models`: every model of the repository can be chosen, by upload or by watched folder. */
  repository?: ModelRepository;
  station: string;
  /** Folder of results.sqlite and the stored images; null keeps no record (and allows no outputs). */
  recordDir: string | null;
  keepImages: number;
  minArea?: number;
  mqtt?: { url: string; topic: string };
  webhook?: string | (Partial<WebhookOptions> & { url: string });
  watch?: { dir: string; model?: string; camera?: string }[];
  watchStableMs?: number;
  driftWindow?: number;
  log?: (line: string) => void;
}

const cameraOf = (w: { dir: string; camera?: string }) => w.camera ?? path.basename(path.resolve(w.dir));

export class StationServices {
  readonly station: Station;
  readonly metrics: StationMetrics;
  readonly watchers: FolderWatcher[] = [];
  private readonly sinks: (MqttSink | WebhookSink)[] = [];
  /** Threshold changes per model name: each one is a new version. */
  private readonly overrides = new Map<string, number>();
  /** An update's new version of the single model (POST /v1/update); a repository swaps its own. */
  private updated: PatchCore | null = null;

  private constructor(
    readonly cfg: StationConfig,
    readonly store: ResultStore | null,
  ) {
    this.metrics = new StationMetrics(cfg.driftWindow);
    for (const n of this.names()) this.overrides.set(n, store?.thresholdChanges(n).length ?? 0);
    this.station = new Station({
      current: (name) => this.current(name),
      station: cfg.station,
      store,
      minArea: cfg.minArea,
      keepImages: cfg.keepImages,
      sinks: this.sinks,
      observer: this.metrics,
    });
    for (const n of this.names()) this.metrics.model(this.current(n));
    this.metrics.watchBacklog = () => this.watchers.reduce((a, w) => a + w.backlog, 0);
  }

  static open(cfg: StationConfig): StationServices {
    if (!cfg.recordDir && (cfg.mqtt || cfg.webhook || cfg.watch?.length))
      throw new UserError('the station needs its record to send results onwards or to watch folders: give a record folder');
    const known = cfg.repository ? cfg.repository.names() : [cfg.modelName];
    const cameras = new Set<string>(); // a watched file is known by camera and path: two folders need two names
    for (const w of cfg.watch ?? []) {
      if (w.model !== undefined && !known.includes(w.model))
        throw new UserError(
          `watch ${w.dir}: no model named ${JSON.stringify(w.model)} here (this server holds ${known.map((n) => JSON.stringify(n)).join(', ')})`,
        );
      const camera = cameraOf(w);
      if (cameras.has(camera))
        throw new UserError(`watch ${w.dir}: another watched folder is also named ${JSON.stringify(camera)}; give each folder once, under its own name`);
      cameras.add(camera);
    }
    const s = new StationServices(cfg, cfg.recordDir ? new ResultStore(cfg.recordDir) : null);
    if (s.store && cfg.mqtt) s.sinks.push(MqttSink.open(s.store, { ...cfg.mqtt, station: cfg.station, status: () => s.health() }, s.metrics));
    if (s.store && cfg.webhook) {
      const w = typeof cfg.webhook === 'string' ? { url: cfg.webhook } : cfg.webhook;
      s.sinks.push(new WebhookSink(s.store, { ...WEBHOOK_DEFAULTS, ...w }, s.metrics));
    }
    for (const k of s.sinks) k.wake(); // results left pending by the last run
    return s;
  }

  /** The models a part can be judged with: the repository's that serve, or the one model. */
  names(): string[] {
    const r = this.cfg.repository;
    return r ? r.names().filter((n) => r.get(n) !== null) : [this.cfg.modelName];
  }

  defaultName(): string {
    return this.cfg.repository ? this.cfg.repository.defaultModel().name : this.cfg.modelName;
  }

  /**
   * The model `name` (default: the default model) as it serves now. Its version is the
   * repository's (v1 for a single model), and each recorded threshold change adds one.
   */
  current(name?: string): ServedModel {
    const n = name ?? this.defaultName();
    const changes = this.overrides.get(n) ?? 0;
    const r = this.cfg.repository;
    if (r) {
      const s = r.get(n);
      if (s) return { model: s.model, name: n, version: changes ? `v${s.version}.${changes}` : `v${s.version}` };
    } else if (n === this.cfg.modelName) return { model: this.updated ?? this.cfg.model, name: n, version: `v${1 + changes}` };
    throw new HttpError(404, 'not_found', `no model named ${JSON.stringify(n.slice(0, 64))} is served here (models: ${this.names().join(', ')})`);
  }

  /** An update's new version judges the parts from now on (POST /v1/update); recorded as a new version. */
  useModel(next: PatchCore, previousThreshold: number, source: string): void {
    this.updated = next;
    this.thresholdChanged(previousThreshold, source);
  }

  /** Starts the watched folders, sharing the server's inference queue. */
  async startWatching(queue?: InferenceQueue): Promise<void> {
    for (const w of this.cfg.watch ?? []) {
      const fw = new FolderWatcher({
        dir: w.dir,
        model: w.model,
        camera: cameraOf(w),
        station: this.station,
        queue,
        stableMs: this.cfg.watchStableMs,
        log: this.cfg.log,
      });
      this.watchers.push(fw);
      await fw.start();
    }
  }

  /** A threshold change (of the default model, the one /v1 serves) is a new version from now on; parts already judged keep theirs. */
  thresholdChanged(previous: number, source: string): void {
    const name = this.defaultName();
    this.overrides.set(name, (this.overrides.get(name) ?? 0) + 1);
    const s = this.current(name);
    this.store?.recordThreshold({
      time: new Date().toISOString(),
      model_name: s.name,
      version: s.version,
      threshold: s.model.threshold,
      previous,
      model_id: s.model.modelId,
      source,
    });
  }

  health() {
    return {
      station: this.cfg.station,
      models: this.names().map((n) => {
        const s = this.current(n);
        return { name: s.name, version: s.version, model_id: s.model.modelId, threshold: s.model.threshold };
      }),
    };
  }

  /** One model as the page's picker shows it: what it was fitted on and what its threshold promises. */
  private describe(n: string) {
    const s = this.current(n);
    const c = s.model.config;
    return {
      name: s.name,
      version: s.version,
      model_id: s.model.modelId,
      threshold: s.model.threshold,
      default: n === this.defaultName(),
      fitted_on: c.trainingData?.images ?? null,
      threshold_sample: c.trainScores.n,
      threshold_info: c.thresholdInfo,
      threshold_changes: this.overrides.get(n) ?? 0,
      drift: this.metrics.drift(n),
    };
  }

  info() {
    const s = this.current();
    const c = s.model.config;
    return {
      station: this.cfg.station,
      models: this.names().map((n) => this.describe(n)),
      default_model: s.name,
      min_area: this.cfg.minArea ?? null,
      recording: this.store !== null,
      fitted_on: c.trainingData?.images ?? null,
      threshold_sample: c.trainScores.n,
      threshold_info: c.thresholdInfo,
      threshold_changes: this.store?.thresholdChanges(s.name) ?? [],
      drift: this.metrics.drift(s.name),
      watch: this.watchers.map((w) => ({
        dir: w.o.dir,
        model: w.o.model ?? s.name,
        camera: w.o.camera,
        backlog: w.backlog,
        processed: w.processed,
        failed: w.failed,
      })),
    };
  }

  async close(): Promise<void> {
    for (const w of this.watchers) await w.close();
    for (const k of this.sinks) await k.close();
    this.store?.close();
  }
}
