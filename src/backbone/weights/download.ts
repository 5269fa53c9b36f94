// Explicit, resumable, checksummed download of pretrained weights (`patchcore backbone fetch`).
import { createReadStream, promises as fs } from 'node:fs';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { UserError } from '../../util/errors.js';
import { WEIGHTS, weightsPath, type TorchvisionArch } from './catalog.js';

export type Progress = (done: number, total: number | undefined) => void;

export interface FetchOptions {
  onProgress?: Progress;
  /** A mirror of the same file (the checksum is still the catalogue's). */
  url?: string;
}

/** Download the arch's weights into the cache unless already there; returns the file path. */
export async function fetchWeights(arch: TorchvisionArch, opts: FetchOptions = {}): Promise<string> {
  const src = WEIGHTS[arch];
  if (!src) throw new UserError(`no downloadable weights for '${arch}' (known: ${Object.keys(WEIGHTS).join(', ')})`);
  const dest = weightsPath(arch);
  if (await exists(dest)) return dest;
  const url = opts.url ?? src.url;
  try {
    await downloadVerified(url, dest, src.sha256, opts.onProgress ?? (process.stderr.isTTY ? progressBar(arch) : undefined));
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw offlineError(arch, `${(e as Error).message}${(e as Error).cause ? ` (${((e as Error).cause as Error).message ?? ''})` : ''}`, url);
  }
  return dest;
}

/** The one-line advice for a machine that cannot reach the weights. */
export function offlineError(arch: TorchvisionArch, why: string, url = WEIGHTS[arch].url): UserError {
  return new UserError(
    `${arch} weights are not available (${why}). Download ${url} on a machine with internet access ` +
      `(sha256 ${WEIGHTS[arch].sha256}) and put it at ${weightsPath(arch)}, or pass the file with --weights FILE ` +
      `(.safetensors, or torchvision's .pth).`,
  );
}

/**
 * GET url into dest, resuming `dest.part` with an HTTP Range request. The sha256 of the whole file must
 * match, else the partial file is deleted; on success it is renamed into place (atomic on one filesystem).
 * Network errors propagate as plain errors so callers can add advice; the .part is kept for resuming.
 */
export async function downloadVerified(url: string, dest: string, sha256: string, onProgress?: Progress): Promise<void> {
  const part = `${dest}.part`;
  await fs.mkdir(path.dirname(dest), { recursive: true });
  let have = (await fs.stat(part).catch(() => null))?.size ?? 0;
  const res = await fetch(url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {} });
  const complete = res.status === 416; // nothing left after the .part: go verify it
  if (res.status === 200)
    have = 0; // server ignored the range: start over
  else if (!complete && res.status !== 206) throw new UserError(`download of ${url} failed: HTTP ${res.status} ${res.statusText}`);
  const length = Number(res.headers.get('content-length') ?? NaN);
  const total = Number.isFinite(length) && !complete ? have + length : undefined;
  if (!complete && res.body) {
    const fh = await fs.open(part, have > 0 ? 'a' : 'w');
    try {
      let done = have;
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        await fh.write(chunk);
        done += chunk.length;
        onProgress?.(done, total);
      }
    } finally {
      await fh.close();
    }
  }
  const got = await hashFile(part);
  if (got !== sha256) {
    await fs.rm(part, { force: true });
    throw new UserError(`checksum mismatch for ${url}: got sha256 ${got}, expected ${sha256}; the partial file was deleted, run the download again`);
  }
  await fs.rename(part, dest);
}

async function hashFile(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

/** A single-line progress bar on stderr (only used when stderr is a terminal). */
export function progressBar(label: string): Progress {
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    if (now - last < 100 && done !== total) return;
    last = now;
    const mb = (n: number) => (n / 1e6).toFixed(1);
    const frac = total ? done / total : 0;
    const bar = '#'.repeat(Math.round(frac * 30)).padEnd(30, '-');
    process.stderr.write(`\r${label} [${bar}] ${total ? `${(frac * 100).toFixed(0)}% ` : ''}${mb(done)}${total ? `/${mb(total)}` : ''} MB`);
    if (done === total) process.stderr.write('\n');
  };
}
