// The inspection web page: a few fixed files, read once. No path from the URL ever reaches the
// file system. The files live in src/server/ui/ and are found from dist/ too (tsc does not copy them).
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const FILES: Record<string, [file: string, type: string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/feedback.js': ['feedback.js', 'text/javascript; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
};

// Offline page: everything from this origin; images come back as blob: URLs.
export const UI_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' blob: data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-cache',
};

function uiDir(): string {
  const candidates = [new URL('./ui/', import.meta.url), new URL('../../../src/server/ui/', import.meta.url)].map((u) => fileURLToPath(u));
  const dir = candidates.find((d) => existsSync(`${d}index.html`));
  if (!dir) throw new Error(`web UI files not found (looked in ${candidates.join(', ')})`);
  return dir;
}

export interface StaticFile {
  body: Buffer;
  type: string;
}

export function loadUi(): Map<string, StaticFile> {
  const dir = uiDir();
  return new Map(Object.entries(FILES).map(([route, [file, type]]) => [route, { body: readFileSync(dir + file), type }]));
}
