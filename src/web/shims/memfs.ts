// Browser stand-in for node:fs: an in-memory file system holding exactly the calls the pipeline
// makes (FeatureStore's spill file, writeFileAtomic, the model store). Files live in the tab's
// memory only; nothing is persisted or sent anywhere. Hand-written rather than the `memfs`
// package, which itself needs Node's buffer/stream/events polyfilled in a browser.
const files = new Map<string, { data: Uint8Array; size: number }>();
const fds = new Map<number, string>();
let nextFd = 3,
  nextTmp = 0;

const norm = (p: string) => p.replace(/\/+/g, '/').replace(/\/$/, '');
function enoent(p: string): Error {
  return Object.assign(new Error(`ENOENT: no such file or directory, '${p}'`), { code: 'ENOENT' });
}
function file(p: string) {
  const f = files.get(norm(p));
  if (!f) throw enoent(p);
  return f;
}
function bytesOf(data: string | Uint8Array): Uint8Array {
  return typeof data === 'string' ? new TextEncoder().encode(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
}
function writeAt(p: string, src: Uint8Array, position: number): number {
  const f = file(p);
  const end = position + src.length;
  if (end > f.data.length) {
    const grown = new Uint8Array(Math.max(end, f.data.length * 2, 1024));
    grown.set(f.data.subarray(0, f.size));
    f.data = grown;
  }
  f.data.set(src, position);
  f.size = Math.max(f.size, end);
  return src.length;
}

/** The bytes of a file (a copy), or undefined. */
export function readBytes(p: string): Uint8Array | undefined {
  const f = files.get(norm(p));
  return f ? f.data.slice(0, f.size) : undefined;
}
export function writeFileSync(p: string, data: string | Uint8Array): void {
  const d = bytesOf(data);
  files.set(norm(p), { data: d, size: d.length });
}
export function readFileSync(p: string, enc?: string): Uint8Array | string {
  const d = file(p).data.slice(0, file(p).size);
  return enc ? new TextDecoder().decode(d) : d;
}
export function existsSync(p: string): boolean {
  const n = norm(p);
  return files.has(n) || [...files.keys()].some((k) => k.startsWith(n + '/'));
}
export function readdirSync(p: string): string[] {
  const n = norm(p) + '/';
  return [...new Set([...files.keys()].filter((k) => k.startsWith(n)).map((k) => k.slice(n.length).split('/')[0]))];
}
export function mkdtempSync(prefix: string): string {
  return `${prefix}${++nextTmp}`;
}
export function mkdirSync(): void {}
export function openSync(p: string, flags = 'r'): number {
  if (flags.startsWith('w')) files.set(norm(p), { data: new Uint8Array(0), size: 0 });
  else file(p);
  fds.set(nextFd, norm(p));
  return nextFd++;
}
export function writeSync(fd: number, buf: Uint8Array, off = 0, len = buf.length - off, position = 0): number {
  return writeAt(fds.get(fd)!, buf.subarray(off, off + len), position);
}
export function readSync(fd: number, buf: Uint8Array, off: number, len: number, position: number): number {
  const f = file(fds.get(fd)!);
  const n = Math.max(0, Math.min(len, f.size - position));
  buf.set(f.data.subarray(position, position + n), off);
  return n;
}
export function closeSync(fd: number): void {
  fds.delete(fd);
}
export function rmSync(p: string): void {
  const n = norm(p);
  for (const k of [...files.keys()]) if (k === n || k.startsWith(n + '/')) files.delete(k);
}
export function renameSync(a: string, b: string): void {
  files.set(norm(b), file(a));
  files.delete(norm(a));
}
export function statSync(p: string) {
  return { size: file(p).size, isFile: () => true, isDirectory: () => false };
}

export const promises = {
  async readFile(p: string, enc?: string) {
    return readFileSync(p, typeof enc === 'string' ? enc : undefined);
  },
  async writeFile(p: string, data: string | Uint8Array) {
    writeFileSync(p, data);
  },
  async mkdir() {},
  async rm(p: string) {
    rmSync(p);
  },
  async rename(a: string, b: string) {
    renameSync(a, b);
  },
  async readdir(p: string) {
    return readdirSync(p);
  },
  async stat(p: string) {
    return statSync(p);
  },
  async open(p: string, flags = 'r') {
    const fd = openSync(p, flags);
    return {
      async writeFile(data: string | Uint8Array) {
        writeAt(fds.get(fd)!, bytesOf(data), 0);
      },
      async sync() {},
      async close() {
        closeSync(fd);
      },
    };
  },
};
export const readFile = promises.readFile;
export const writeFile = promises.writeFile;
export const rm = promises.rm;
export const mkdir = promises.mkdir;
export const rename = promises.rename;
export const readdir = promises.readdir;
export function createReadStream(): never {
  throw new Error('streams are not available in the browser');
}

export default {
  promises,
  readBytes,
  writeFileSync,
  readFileSync,
  existsSync,
  readdirSync,
  mkdtempSync,
  mkdirSync,
  openSync,
  writeSync,
  readSync,
  closeSync,
  rmSync,
  renameSync,
  statSync,
  createReadStream,
};
