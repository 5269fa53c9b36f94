// One declarative table per command drives parsing (node:util parseArgs), validation, `--help` and
// the README's options tables (`npm run docs:options`). Every flag is read and checked here, before
// a command does any work. A small table of our own rather than commander/yargs: parseArgs already
// parses, and what the project needs on top (typed values, one error style, the README table,
// negative numbers, "did you mean") is this file.
import { parseArgs } from 'node:util';
import { invalid, UserError } from '../util/errors.js';
import { isMember, oneOf, withinBounds, type EnumSetting, type NumberSetting } from '../settings/define.js';

export { oneOf };

export interface Option<T> {
  kind: 'string' | 'boolean';
  /** Placeholder in help, e.g. `R` in `--coreset R`. */
  arg?: string;
  help: string;
  /** The default as shown in help and README. */
  shown?: string;
  /** The library's name for this value (`ratio`), so its messages can be told in flags. */
  key?: string;
  /** The flag may be given several times; `read` then gets every value. */
  multiple?: boolean;
  /** Convert and check the raw value (undefined when the flag is absent); `flag` is `--name`. */
  read(raw: string | string[] | boolean | undefined, flag: string): T;
}

export type Options = Record<string, Option<unknown>>;
export type Values<O extends Options> = { [K in keyof O]: ReturnType<O[K]['read']> };

export interface CommandSpec<O extends Options> {
  name: string;
  /** Usage line after `patchcore NAME`. */
  usage: string;
  /** A few lines of description under the usage line. */
  about: string;
  options: O;
  /** Positional arguments allowed (images…). */
  positionals?: boolean;
  /** Options whose README row lives in another command's table (eval and sweep share fit's). */
  documentedAt?: { command: string; options: readonly string[] };
}

// ---- option builders -------------------------------------------------------------------------

type Extra = { shown?: string; key?: string };

export function flag(help: string, extra: Extra = {}): Option<boolean> {
  return { kind: 'boolean', help, ...extra, read: (raw) => raw === true };
}

export function text(arg: string, help: string, extra: Extra = {}): Option<string | undefined> {
  return { kind: 'string', arg, help, ...extra, read: (raw) => (typeof raw === 'string' ? raw : undefined) };
}

export function required(arg: string, help: string, expected: string): Option<string> {
  return {
    kind: 'string',
    arg,
    help,
    shown: 'required',
    read: (raw, f) => {
      if (typeof raw !== 'string' || raw === '') throw invalid(f, expected, raw);
      return raw;
    },
  };
}

export function withDefault(arg: string, help: string, fallback: string, extra: Extra = {}): Option<string> {
  return { kind: 'string', arg, help, shown: fallback, ...extra, read: (raw) => (typeof raw === 'string' ? raw : fallback) };
}

/** A number checked by `ok`; the raw text must be a plain finite number. */
export function number<D extends number | undefined>(
  arg: string,
  help: string,
  expected: string,
  fallback: D,
  ok: (x: number) => boolean,
  extra: Extra = {},
): Option<number | D> {
  return {
    kind: 'string',
    arg,
    help,
    shown: fallback === undefined ? undefined : String(fallback),
    ...extra,
    read: (raw, f) => {
      if (raw === undefined) return fallback;
      const x = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
      if (!Number.isFinite(x) || !ok(x)) throw invalid(f, expected, Number.isFinite(x) ? x : raw);
      return x;
    },
  };
}

export function integer<D extends number | undefined>(
  arg: string,
  help: string,
  lo: number,
  hi: number,
  fallback: D,
  extra: Extra & { expected?: string } = {},
): Option<number | D> {
  const expected = extra.expected ?? (hi === Infinity ? (lo === 0 ? 'a non-negative integer' : `an integer >= ${lo}`) : `an integer ${lo}..${hi}`);
  return number(arg, help, expected, fallback, (x) => Number.isInteger(x) && x >= lo && x <= hi, extra);
}

export function choice<C extends string>(arg: string, help: string, choices: readonly C[], fallback: C, extra: Extra = {}): Option<C> {
  return {
    kind: 'string',
    arg: arg || choices.join('|'),
    help,
    shown: fallback,
    ...extra,
    read: (raw, f) => {
      if (raw === undefined) return fallback;
      if (!choices.includes(raw as C)) throw invalid(f, oneOf(choices), raw);
      return raw as C;
    },
  };
}

/** Any conversion of the raw text; `parse` throws `invalid(flag, …)` itself. */
export function custom<T, D>(arg: string, help: string, fallback: D, parse: (raw: string, flag: string) => T, extra: Extra = {}): Option<T | D> {
  return { kind: 'string', arg, help, ...extra, read: (raw, f) => (typeof raw === 'string' ? parse(raw, f) : fallback) };
}

/** A flag given any number of times: each value parsed on its own, in order. */
export function repeated<T>(arg: string, help: string, parse: (raw: string, flag: string) => T, extra: Extra = {}): Option<T[]> {
  return {
    kind: 'string',
    multiple: true,
    arg,
    help: `${help} (repeatable)`,
    ...extra,
    read: (raw, f) => (Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : []).map((r) => parse(r, f)),
  };
}

/**
 * A setting's flag (src/settings/), as a one-entry table to spread into a command's: its flag,
 * placeholder, help, default and bounds come from the declaration; `extra` can say the default
 * another way (`the preset's (0.005)`).
 */
export function fromSetting<const F extends string, D extends number | undefined>(s: NumberSetting<F, D>, extra?: Extra): Record<F, Option<number | D>>;
export function fromSetting<const F extends string, C extends string, D extends C | undefined>(
  s: EnumSetting<F, C, D>,
  extra?: Extra,
): Record<F, Option<C | D>>;
export function fromSetting(s: NumberSetting | EnumSetting, extra: Extra = {}): Record<string, Option<unknown>> {
  const shown = s.default === undefined ? undefined : String(s.default);
  const option: Option<unknown> =
    s.type === 'number'
      ? number(s.arg, s.help, s.expected, s.default, (x) => withinBounds(s, x), { key: s.key, shown, ...extra })
      : {
          kind: 'string',
          arg: s.arg,
          help: s.help,
          key: s.key,
          shown,
          ...extra,
          read: (raw, f) => {
            if (raw === undefined) return s.default;
            if (!isMember(s, raw)) throw invalid(f, s.expected, raw);
            return raw;
          },
        };
  return { [s.flag]: option };
}

// ---- parsing ---------------------------------------------------------------------------------

export const COMMON = {
  quiet: flag('no progress bars or warnings'),
  help: flag('this help'),
} as const;

/** Parse `argv` against the table: every value converted and checked, or one UserError. */
export function parseCommand<O extends Options>(spec: CommandSpec<O>, argv: string[]): { values: Values<O & typeof COMMON>; positionals: string[] } {
  const all: Options = { ...spec.options, ...COMMON };
  const config = Object.fromEntries(
    Object.entries(all).map(([k, o]) => [k, { type: o.kind, ...(o.multiple ? { multiple: true } : {}), ...(k === 'help' ? { short: 'h' } : {}) }]),
  );
  let parsed: { values: Record<string, string | string[] | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: joinNegatives(argv, all), options: config as never, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (e) {
    throw parseError(e as Error & { code?: string }, spec.name, Object.keys(all));
  }
  if (parsed.values.help) return { values: { help: true } as Values<O & typeof COMMON>, positionals: [] };
  if (!spec.positionals && parsed.positionals.length)
    throw new UserError(`patchcore ${spec.name}: unexpected argument '${parsed.positionals[0]}' (run 'patchcore ${spec.name} --help')`);
  const values: Record<string, unknown> = {};
  for (const [k, o] of Object.entries(all)) values[k] = o.read(parsed.values[k], `--${k}`);
  return { values: values as Values<O & typeof COMMON>, positionals: parsed.positionals };
}

/**
 * `--seed -1`: parseArgs reads `-1` as an option and refuses the pair. A number after a string
 * flag is its value, so it becomes `--seed=-1` and the flag's own check explains what is expected.
 */
function joinNegatives(argv: string[], all: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const o = a.startsWith('--') ? all[a.slice(2)] : undefined;
    if (o?.kind === 'string' && /^-(\d|\.\d)/.test(argv[i + 1] ?? '')) out.push(`${a}=${argv[++i]}`);
    else out.push(a);
  }
  return out;
}

function parseError(e: Error & { code?: string }, command: string, flags: string[]): UserError {
  const first = e.message.split('\n')[0];
  const m = /^Unknown option '(-{1,2}[^']+)'/.exec(first);
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && m) {
    const near = nearest(m[1].replace(/^-+/, '').replace(/=.*$/, ''), flags);
    return new UserError(`unknown option ${m[1]} for patchcore ${command}${near ? `; did you mean --${near}?` : ''} (run 'patchcore ${command} --help')`);
  }
  return new UserError(first);
}

/** The closest flag by edit distance (at most 2 edits, or a unique prefix), for "did you mean". */
export function nearest(word: string, flags: string[]): string | null {
  const prefixed = flags.filter((f) => f.startsWith(word));
  if (word.length >= 2 && prefixed.length === 1) return prefixed[0];
  let best: string | null = null;
  let bestD = 3;
  for (const f of flags) {
    const d = editDistance(word, f);
    if (d < bestD) [best, bestD] = [f, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/**
 * Library errors carry the option's key (`ratio`, util/errors.ts); on the command line the same
 * value came from a flag, so the error is told with the flag (`for --coreset`).
 */
export function inFlags(e: unknown, options: Options): unknown {
  const option = e instanceof UserError ? e.option : undefined;
  const hit = option && Object.entries(options).find(([, o]) => o.key === option.key);
  return option && hit ? invalid(`--${hit[0]}`, option.expected, option.actual) : e;
}

// ---- help and README --------------------------------------------------------------------------

function signature(name: string, o: Option<unknown>): string {
  return `--${name}${o.arg ? ` ${o.arg}` : ''}`;
}

export function helpText<O extends Options>(spec: CommandSpec<O>): string {
  const rows = Object.entries({ ...spec.options, ...COMMON }).map(([k, o]) => [
    signature(k, o),
    o.help + (o.shown && o.shown !== 'required' ? ` (default ${o.shown})` : ''),
  ]);
  const width = Math.min(28, Math.max(...rows.map((r) => r[0].length)) + 2);
  const lines = rows.map(([s, h]) => (s.length + 2 > width ? `  ${s}\n  ${' '.repeat(width)}${h}` : `  ${s.padEnd(width)}${h}`));
  return `patchcore ${spec.name} ${spec.usage}\n${spec.about.replace(/^/gm, '  ')}\n\nOptions:\n${lines.join('\n')}\n`;
}

/** The Markdown table of a command's options, as README.md holds it between markers. */
export function markdownTable<O extends Options>(spec: CommandSpec<O>): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const elsewhere = new Set(spec.documentedAt?.options ?? []);
  const rows = Object.entries(spec.options)
    .filter(([k]) => !elsewhere.has(k))
    .map(([k, o]) => `| \`${cell(signature(k, o))}\` | ${cell(o.help)} | ${o.shown ? cell(o.shown) : ''} |`);
  return ['| option | meaning | default |', '|---|---|---|', ...rows].join('\n');
}

/** Replace each `<!-- options:NAME -->…<!-- /options:NAME -->` block of `readme` with the table of NAME. */
export function updateReadme(readme: string, specs: CommandSpec<Options>[]): string {
  let out = readme;
  for (const spec of specs) {
    const re = new RegExp(`(<!-- options:${spec.name} -->)[\\s\\S]*?(<!-- /options:${spec.name} -->)`);
    if (!re.test(out)) throw new Error(`README.md has no <!-- options:${spec.name} --> block`);
    out = out.replace(re, (_m, open: string, close: string) => `${open}\n${markdownTable(spec)}\n${close}`);
  }
  return out;
}
