// A Triton-layout model repository: DIR/<name>/<version>/ holds a model directory. Each model
// serves its highest version; a poll loads a new or changed version beside the served one and
// swaps it in once loaded (requests in flight keep the object they started with). A version that
// fails to load is reported and the one before keeps serving.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { PatchCore } from '../model/patchcore.js';
import { errorMessage, UserError } from '../util/errors.js';
import { versionSignature } from './repository-scan.js';

export type LoadModel = (dir: string) => Promise<PatchCore>;

/** One version of one model as the server knows it. */
export interface VersionState {
  version: string;
  dir: string;
  state: 'ready' | 'failed';
  /** Why it failed to load (state 'failed'). */
  error?: string;
  /** What was on disk when it was loaded or failed; a change triggers a new attempt. */
  signature: string;
}

/** What a request gets: the model object it runs to the end, whatever reloads happen meanwhile. */
export interface ServedModel {
  name: string;
  version: string;
  model: PatchCore;
}

interface Entry {
  name: string;
  serving: ServedModel | null;
  /** The latest attempt per version (ready or failed), by version. */
  versions: Map<string, VersionState>;
}

export interface RepositoryOptions {
  load: LoadModel;
  /** Poll interval for changes on disk; 0 = no reloads. */
  pollMs?: number;
  /** Called after every load attempt (logging). */
  onEvent?: (message: string) => void;
}

/** A model's folder name: what URLs can carry unescaped. */
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const VERSION = /^[1-9][0-9]{0,8}$/;

export class ModelRepository {
  private readonly entries = new Map<string, Entry>();
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  /** Signatures seen at the previous poll: a version loads once two polls agree (it is not mid-copy). */
  private lastSeen = new Map<string, string>();

  private constructor(
    /** The repository folder, or null for a repository of one given model. */
    readonly root: string | null,
    private readonly o: RepositoryOptions,
  ) {}

  /** `serve --models DIR`: every model in DIR at its highest version. Throws a UserError when nothing loads. */
  static async open(root: string, o: RepositoryOptions): Promise<ModelRepository> {
    const stat = await fs.stat(root).catch(() => null);
    if (!stat?.isDirectory()) throw new UserError(`${root}: not a directory (expects a model repository: DIR/<name>/<version>/model.json)`);
    const repo = new ModelRepository(root, o);
    await repo.scan(true);
    if (repo.entries.size === 0) throw new UserError(`${root}: no models found (expects DIR/<name>/<version>/ holding a model directory from 'patchcore fit')`);
    if (![...repo.entries.values()].some((e) => e.serving)) {
      const reasons = [...repo.entries.values()].flatMap((e) => [...e.versions.values()].map((v) => `${e.name}/${v.version}: ${v.error}`));
      throw new UserError(`${root}: no model could be loaded (${reasons.join('; ')})`);
    }
    if (o.pollMs) repo.startPolling(o.pollMs);
    return repo;
  }

  /** `serve --model M`: a repository of one, version 1, never reloaded. */
  static single(name: string, model: PatchCore): ModelRepository {
    const repo = new ModelRepository(null, { load: async () => model });
    repo.entries.set(name, {
      name,
      serving: { name, version: '1', model },
      versions: new Map([['1', { version: '1', dir: '', state: 'ready', signature: '' }]]),
    });
    return repo;
  }

  /** A repository of one (`single`): serve `model` from now on (an update's new version). */
  replace(name: string, model: PatchCore): void {
    const e = this.entries.get(name);
    if (this.root !== null || !e?.serving) throw new Error('replace: only a repository of one given model can be replaced in place');
    e.serving = { ...e.serving, model };
  }

  /** Model names, sorted. */
  names(): string[] {
    return [...this.entries.keys()].sort();
  }

  /** The model /v1 serves: the only one, or the first by name that serves. */
  defaultModel(): ServedModel {
    for (const n of this.names()) {
      const s = this.entries.get(n)!.serving;
      if (s) return s;
    }
    throw new Error('repository has no served model');
  }

  /** The served version of `name`, or null when the model is unknown or nothing of it loaded. */
  get(name: string): ServedModel | null {
    return this.entries.get(name)?.serving ?? null;
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** Every version attempt of `name`, highest first. */
  versions(name: string): VersionState[] {
    const e = this.entries.get(name);
    return e ? [...e.versions.values()].sort((a, b) => Number(b.version) - Number(a.version)) : [];
  }

  /** True when every model serves a version (server readiness). */
  allServing(): boolean {
    return [...this.entries.values()].every((e) => e.serving !== null);
  }

  startPolling(ms: number): void {
    this.stop();
    this.timer = setInterval(() => void this.poll(), ms);
    this.timer.unref();
  }

  /** One poll now (tests and the benchmark call it to avoid waiting); concurrent calls share one scan. */
  poll(): Promise<void> {
    this.polling ??= this.scan(false).finally(() => {
      this.polling = null;
    });
    return this.polling;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Look at the disk; load each model's highest version when it is new or changed. */
  private async scan(initial: boolean): Promise<void> {
    if (this.root === null) return;
    const names = (await fs.readdir(this.root, { withFileTypes: true }).catch(() => []))
      .filter((d) => d.isDirectory() && MODEL_NAME.test(d.name))
      .map((d) => d.name);
    const seen = new Map<string, string>();
    await Promise.all(
      names.map(async (name) => {
        const dir = path.join(this.root!, name);
        const versions = (await fs.readdir(dir, { withFileTypes: true }).catch(() => []))
          .filter((d) => d.isDirectory() && VERSION.test(d.name))
          .map((d) => d.name);
        if (versions.length === 0) return;
        versions.sort((a, b) => Number(b) - Number(a));
        const entry = this.entries.get(name) ?? { name, serving: null, versions: new Map<string, VersionState>() };
        this.entries.set(name, entry);
        // at start, a failed highest version falls back to the next one down; later the served one stays
        for (const v of initial ? versions : versions.slice(0, 1)) {
          const vdir = path.join(dir, v);
          const sig = await versionSignature(vdir);
          const key = `${name}/${v}`;
          seen.set(key, sig);
          if (entry.versions.get(v)?.signature === sig) return; // loaded (or failed) exactly this content
          if (!initial && this.lastSeen.get(key) !== sig) return; // still changing: wait for the next poll
          if (await this.loadVersion(entry, v, vdir, sig)) return;
        }
      }),
    );
    this.lastSeen = seen;
  }

  /** True when the version loaded and now serves. */
  private async loadVersion(entry: Entry, version: string, dir: string, signature: string): Promise<boolean> {
    try {
      const model = await this.o.load(dir);
      entry.versions.set(version, { version, dir, state: 'ready', signature });
      // drop the record of versions that no longer serve, except failures (they explain themselves)
      for (const [v, s] of entry.versions) if (v !== version && s.state === 'ready') entry.versions.delete(v);
      entry.serving = { name: entry.name, version, model }; // the swap: later requests get the new object
      this.o.onEvent?.(`loaded ${entry.name} version ${version} (model_id ${model.modelId})`);
      return true;
    } catch (e) {
      const error = errorMessage(e).split('\n')[0];
      entry.versions.set(version, { version, dir, state: 'failed', error, signature });
      this.o.onEvent?.(`failed to load ${entry.name} version ${version}: ${error}${entry.serving ? `; version ${entry.serving.version} keeps serving` : ''}`);
      return false;
    }
  }
}
