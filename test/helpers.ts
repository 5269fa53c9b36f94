// Shared test setup: a per-run graph cache (never ~/.cache), synthetic data, a fitted model.
import * as os from 'node:os';
import * as path from 'node:path';
import { mkdtempSync } from 'node:fs';

// One cache per test run, shared by the test files so the default backbone is built once.
process.env.PATCHCORE_CACHE ??= path.join(os.tmpdir(), `patchcore-ts-test-cache-${process.env.npm_lifecycle_event ?? 'x'}-${new Date().toISOString().slice(0, 10)}`);

export function tempDir(prefix = 'pc-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** ../shared beside the repo, or $PATCHCORE_SHARED. */
export const SHARED = process.env.PATCHCORE_SHARED ?? path.resolve(process.cwd(), '..', 'shared');

export const REPO = process.cwd();
export const CLI = path.join(REPO, 'dist', 'src', 'cli', 'main.js');
