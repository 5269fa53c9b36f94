// serve --watch DIR: judge each image that appears in DIR once, after its writer has finished
// (size unchanged for `stableMs`, chokidar's awaitWriteFinish; a file renamed in is complete at
// once and passes the same check). Done files move to DIR/.done/, unreadable ones to DIR/.failed/
// with a note. A file is keyed by path, size and mtime in the record: after a crash between the
// record and the move, the restart finds the key and moves the file without judging it again.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import chokidar, { type FSWatcher } from 'chokidar';
import { decodeImage } from '../../image/load.js';
import type { RgbImage } from '../../types.js';
import { errorMessage } from '../../util/errors.js';
import type { Station } from '../record/station.js';
import type { InferenceQueue } from '../queue.js';
import { HttpError } from '../http-error.js';

export const DONE = '.done';
export const FAILED = '.failed';
const IMAGE = /\.(png|jpe?g|webp|tiff?)$/i;

export interface WatchOptions {
  dir: string;
  /** The model this folder's parts are judged with; default: the default model. */
  model?: string;
  camera: string;
  station: Station;
  /** The server's inference queue: watched files take their turn with uploads. */
  queue?: InferenceQueue;
  stableMs?: number;
  /** Poll instead of inotify (network shares). */
  usePolling?: boolean;
  log?: (line: string) => void;
}

export class FolderWatcher {
  private watcher: FSWatcher | null = null;
  private readonly waiting: string[] = [];
  private readonly seen = new Set<string>();
  private busy: Promise<void> | null = null;
  private closed = false;
  processed = 0;
  failed = 0;

  constructor(readonly o: WatchOptions) {}

  get backlog(): number {
    return this.waiting.length + (this.busy ? 1 : 0);
  }

  async start(): Promise<void> {
    const root = path.resolve(this.o.dir);
    await fs.mkdir(root, { recursive: true });
    const stable = this.o.stableMs ?? 500;
    this.watcher = chokidar.watch(root, {
      // dot-names are temp files of atomic writers and our own .done/.failed folders
      ignored: (p, stats) => path.basename(p).startsWith('.') || (!!stats?.isFile() && !IMAGE.test(p) && !p.endsWith('.txt')),
      awaitWriteFinish: { stabilityThreshold: stable, pollInterval: Math.max(20, Math.floor(stable / 5)) },
      usePolling: this.o.usePolling,
      interval: 100,
    });
    this.watcher.on('add', (file) => this.enqueue(file));
    this.watcher.on('error', (e) => this.o.log?.(`watch ${this.o.dir}: ${errorMessage(e)}`));
    await new Promise<void>((res) => this.watcher!.once('ready', () => res()));
  }

  private enqueue(file: string): void {
    if (this.closed || this.seen.has(file)) return;
    this.seen.add(file);
    this.waiting.push(file);
    if (!this.busy) this.busy = this.drain().finally(() => (this.busy = null));
  }

  private async drain(): Promise<void> {
    for (let f = this.waiting.shift(); f !== undefined && !this.closed; f = this.waiting.shift()) {
      await this.handle(f).catch((e) => this.o.log?.(`watch ${f}: ${errorMessage(e)}`));
      this.seen.delete(f);
    }
  }

  private async handle(file: string): Promise<void> {
    const root = path.resolve(this.o.dir);
    const rel = path.relative(root, file);
    const st = await fs.stat(file).catch(() => null);
    if (!st?.isFile()) return;
    const sourceKey = `watch:${this.o.camera}:${rel}:${st.size}:${Math.round(st.mtimeMs)}`;
    const bytes = await fs.readFile(file);
    let img: RgbImage;
    try {
      if (!IMAGE.test(file)) throw new Error('not an image file (PNG, JPEG, WebP or TIFF)');
      img = await decodeImage(bytes, rel);
    } catch (e) {
      this.failed++;
      await this.move(file, rel, FAILED);
      await fs.writeFile(path.join(root, FAILED, `${rel}.error.txt`), `${errorMessage(e).split('\n')[0]}\n`).catch(() => undefined);
      return;
    }
    const part = { bytes, img, name: rel, camera: this.o.camera, sourceKey, model: this.o.model };
    for (;;) {
      try {
        await (this.o.queue ? this.o.queue.run(() => this.o.station.inspect(part)) : this.o.station.inspect(part));
        break;
      } catch (e) {
        if (!(e instanceof HttpError && e.statusCode === 503) || this.closed) throw e;
        await new Promise((res) => setTimeout(res, 200)); // uploads fill the queue: wait for a slot
      }
    }
    this.processed++;
    await this.move(file, rel, DONE);
  }

  private async move(file: string, rel: string, folder: string): Promise<void> {
    const target = path.join(path.resolve(this.o.dir), folder, rel);
    await fs.mkdir(path.dirname(target), { recursive: true });
    const exists = await fs.stat(target).then(
      () => true,
      () => false,
    );
    await fs.rename(file, exists ? `${target}.${Date.now()}` : target);
  }

  /** Stops taking files; the one being judged finishes. Files still waiting stay in the folder for the next start. */
  async close(): Promise<void> {
    this.closed = true;
    await this.watcher?.close();
    await this.busy;
  }
}
