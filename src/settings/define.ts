// One declaration per tunable value: its key (the library's option name, which errors carry), its
// bounds or members, its default, and its CLI flag and help. The CLI's option table
// (cli/args.ts), model.json's schema (model/config-schema.ts) and the library's own checks all
// read the bounds from here, so they are written once.
import { z } from 'zod';
import { invalid } from '../util/errors.js';

interface Common<F extends string> {
  /** The library's name for the value (`ratio`, `background.size`): errors carry it as their key. */
  key: string;
  /** The CLI flag, without `--`. */
  flag: F;
  /** Placeholder in help, e.g. `R` in `--coreset R`. */
  arg: string;
  help: string;
  /** What a bad value is told it should be: `Expected <expected> for …`. */
  expected: string;
}

export interface NumberSetting<F extends string = string, D extends number | undefined = number | undefined> extends Common<F> {
  type: 'number';
  integer: boolean;
  min: number;
  max: number;
  /** Bounds excluded: (0, 1] is `min: 0, minOpen: true`. */
  minOpen?: boolean;
  maxOpen?: boolean;
  /** The default when the value is not given; undefined when the preset (or the absence) decides. */
  default: D;
}

export interface EnumSetting<F extends string = string, C extends string = string, D extends C | undefined = C | undefined> extends Common<F> {
  type: 'enum';
  members: readonly C[];
  /** Membership decided at run time (kinds registered after load, e.g. scoring rules); else `members`. */
  accepts?: (x: unknown) => boolean;
  default: D;
}

export type Setting = NumberSetting | EnumSetting;

type NumberSpec<F extends string, D extends number | undefined> = Omit<NumberSetting<F, D>, 'type' | 'expected' | 'integer'> & {
  expected?: string;
  integer?: boolean;
};

/** An integer in [min, max]; `expected` defaults to `an integer min..max`. */
export function integerSetting<const F extends string, D extends number | undefined>(s: NumberSpec<F, D>): NumberSetting<F, D> {
  const expected = s.expected ?? (s.max === Infinity ? (s.min === 0 ? 'a non-negative integer' : `an integer >= ${s.min}`) : `an integer ${s.min}..${s.max}`);
  return { type: 'number', integer: true, ...s, expected };
}

/** A finite number within the bounds; `expected` says them in words. */
export function numberSetting<const F extends string, D extends number | undefined>(s: NumberSpec<F, D> & { expected: string }): NumberSetting<F, D> {
  return { type: 'number', integer: false, ...s };
}

export function enumSetting<const F extends string, const C extends string, D extends C | undefined>(
  s: Omit<EnumSetting<F, C, D>, 'type' | 'expected'> & { expected?: string },
): EnumSetting<F, C, D> {
  return { type: 'enum', ...s, expected: s.expected ?? oneOf(s.members) };
}

/** `"a", "b" or "c"`: the members as an error message lists them. */
export function oneOf(xs: readonly string[]): string {
  const q = xs.map((x) => `"${x}"`);
  return q.length < 2 ? q.join('') : `${q.slice(0, -1).join(', ')} or ${q[q.length - 1]}`;
}

/** Whether `x` is within the setting's bounds (a finite number, an integer where it must be). */
export function withinBounds(s: NumberSetting, x: unknown): x is number {
  if (typeof x !== 'number' || !Number.isFinite(x)) return false;
  if (s.integer && !Number.isInteger(x)) return false;
  return (s.minOpen ? x > s.min : x >= s.min) && (s.maxOpen ? x < s.max : x <= s.max);
}

export function isMember<C extends string>(s: EnumSetting<string, C>, x: unknown): x is C {
  return s.accepts ? s.accepts(x) : (s.members as readonly unknown[]).includes(x);
}

/** The library's check: the value, or `invalid(key, expected, value)`. */
export function checkNumber(s: NumberSetting, x: unknown, key = s.key): number {
  if (!withinBounds(s, x)) throw invalid(key, s.expected, x);
  return x;
}

export function checkMember<C extends string>(s: EnumSetting<string, C>, x: unknown, key = s.key): C {
  if (!isMember(s, x)) throw invalid(key, s.expected, x);
  return x;
}

/** The setting as a model.json field (the schema's error is the same `expected`). */
export function zodNumber(s: NumberSetting) {
  const e = { error: s.expected };
  let t = z.number(e);
  if (s.integer) t = t.int(e);
  if (s.min !== -Infinity) t = s.minOpen ? t.gt(s.min, e) : t.min(s.min, e);
  if (s.max !== Infinity) t = s.maxOpen ? t.lt(s.max, e) : t.max(s.max, e);
  return t;
}

export function zodEnum<const C extends string>(s: EnumSetting<string, C>) {
  return z.enum(s.members as [C, ...C[]], { error: s.expected });
}
