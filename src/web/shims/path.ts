// Browser stand-in for node:path (POSIX): the few functions the pipeline uses on memfs paths.
export const sep = '/';
export function normalize(p: string): string {
  const abs = p.startsWith('/');
  const out: string[] = [];
  for (const s of p.split('/')) {
    if (!s || s === '.') continue;
    if (s === '..' && out.length && out[out.length - 1] !== '..') out.pop();
    else if (s !== '..' || !abs) out.push(s);
  }
  const body = (abs ? '/' : '') + out.join('/') || (abs ? '/' : '.');
  return p.endsWith('/') && !body.endsWith('/') ? `${body}/` : body;
}
export const join = (...parts: string[]) => normalize(parts.filter(Boolean).join('/'));
export const resolve = (...parts: string[]) => normalize(parts.reduce((acc, p) => (p.startsWith('/') ? p : `${acc}/${p}`), '/'));
const trimEnd = (p: string) => p.replace(/(.)\/+$/, '$1');
export const dirname = (p: string) => {
  const n = trimEnd(p);
  const i = n.lastIndexOf('/');
  return i < 0 ? '.' : i === 0 ? '/' : n.slice(0, i);
};
export const basename = (p: string, ext?: string) => {
  const b = trimEnd(p).split('/').pop() ?? '';
  return ext && b !== ext && b.endsWith(ext) ? b.slice(0, -ext.length) : b;
};
export const extname = (p: string) => {
  const b = basename(p);
  const i = b.lastIndexOf('.');
  return i > 0 && b !== '..' ? b.slice(i) : '';
};
export const isAbsolute = (p: string) => p.startsWith('/');
export const relative = (a: string, b: string) => (normalize(b).startsWith(normalize(a) + '/') ? normalize(b).slice(normalize(a).length + 1) : normalize(b));
export const posix = { sep, normalize, join, resolve, dirname, basename, extname, isAbsolute, relative };
export default posix;
