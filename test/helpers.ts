// Shared test setup: a per-run graph cache (never ~/.cache), synthetic data, a fitted model.
import * as os from 'node:os';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { existsSync, mkdtempSync } from 'node:fs';

// One cache per test run, shared by the test files so the default backbone is built once.
process.env.PATCHCORE_CACHE ??= path.join(os.tmpdir(), `patchcore-ts-test-cache-${process.env.npm_lifecycle_event ?? 'x'}-${new Date().toISOString().slice(0, 10)}`);

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
    for (const name of ['chromium', 'chromium-browser', 'google-chrome'])
      if (existsSync(path.join(dir, name))) return path.join(dir, name);
  return null;
}

/** The CLI as a user runs it: exit code, stdout, stderr (no debug stacks). */
export function runCli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, PATCHCORE_DEBUG: '' } });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}
