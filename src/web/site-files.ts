// Serving the built site (`patchcore serve --studio` and the tests): only the files `buildSite`
// wrote, read once; the URL never reaches the file system. The headers make the page
// cross-origin isolated (so ONNX Runtime may use WASM threads) and forbid other origins.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { invalid } from '../util/errors.js';

export const SITE_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; img-src 'self' blob: data:; connect-src 'self'; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'",
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-cache',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
};

export interface SiteFile {
  body: Buffer;
  type: string;
}

/** Route ('/', '/main.js', '/ort/…') -> file, for every file under `dir`. */
export function loadSite(dir: string): Map<string, SiteFile> {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw invalid('studio', "a folder written by 'patchcore web --out DIR'", dir);
  const out = new Map<string, SiteFile>();
  const walk = (rel: string): void => {
    for (const name of readdirSync(path.join(dir, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      if (statSync(path.join(dir, r)).isDirectory()) walk(r);
      else out.set(`/${r}`, { body: readFileSync(path.join(dir, r)), type: TYPES[path.extname(name)] ?? 'application/octet-stream' });
    }
  };
  walk('');
  const index = out.get('/index.html');
  if (!index) throw invalid('studio', "a folder written by 'patchcore web --out DIR' (with index.html)", dir);
  out.set('/', index);
  return out;
}
