// Shared test setup: a per-run graph cache (never ~/.cache), synthetic data, a fitted model.
import * as os from 'node:os';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { existsSync, mkdtempSync } from 'node:fs';
import type { MemoryBank } from '../src/types.js';

// One cache per test run, shared by the test files so the default backbone is built once.
process.env.PATCHCORE_CACHE ??= path.join(
  os.tmpdir(),
  `patchcore-ts-test-cache-${process.env.npm_lifecycle_event ?? 'x'}-${new Date().toISOString().slice(0, 10)}`,
);

export function tempDir(prefix = 'pc-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** ../shared beside the repo, or $PATCHCORE_SHARED. */
export const SHARED = process.env.PATCHCORE_SHARED ?? path.resolve(process.cwd(), '..', 'shared');

export const REPO = process.cwd();
export const CLI = path.join(REPO, 'dist', 'src', 'cli', 'main.js');

/** Chromium for the browser tests: $CHROMIUM_PATH, else chromium, chromium-browser or google-chrome on PATH. */
export function findChromium(): string | null {
  if (process.env.CHROMIUM_PATH) return existsSync(process.env.CHROMIUM_PATH) ? process.env.CHROMIUM_PATH : null;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean))
    for (const name of ['chromium', 'chromium-browser', 'google-chrome']) if (existsSync(path.join(dir, name))) return path.join(dir, name);
  return null;
}

/** Headless Chromium's flags for the browser tests: no sandbox (root in CI), no network chatter. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];
export const NO_CHROMIUM = 'no Chromium on PATH or at $CHROMIUM_PATH (apt-get install chromium, or set CHROMIUM_PATH)';
/** A browser test's skip: the reason locally without Chromium; false under CI=true, where the test fails on it instead. */
export const chromiumSkip = (chromium: string | null): false | string => (chromium === null && process.env.CI !== 'true' ? NO_CHROMIUM : false);

/** The CLI as a user runs it: exit code, stdout, stderr (no debug stacks). */
export function runCli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, PATCHCORE_DEBUG: '' } });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** k-NN by brute force: every distance in float64, sorted by (distance, bank row). */
export function bruteForceKnn(q: Float32Array, n: number, bank: MemoryBank, k: number): { index: number[][]; dist: number[][] } {
  const index: number[][] = [];
  const dist: number[][] = [];
  for (let i = 0; i < n; i++) {
    const all: [number, number][] = [];
    for (let m = 0; m < bank.size; m++) {
      let s = 0;
      for (let j = 0; j < bank.dim; j++) s += (q[i * bank.dim + j] - bank.data[m * bank.dim + j]) ** 2;
      all.push([Math.sqrt(s), m]);
    }
    all.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    index.push(all.slice(0, k).map((x) => x[1]));
    dist.push(all.slice(0, k).map((x) => x[0]));
  }
  return { index, dist };
}
