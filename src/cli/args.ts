// Flag parsing shared by the commands: every bad value becomes a one-line UserError naming the flag.
import { parsePrecision, type Precision } from '../model/int8.js';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { PreprocessConfig, ScoreKind, ScoringConfig } from '../types.js';
import { DEFAULT_BACKGROUND, parseBgRange, validateBackgroundConfig, type BackgroundConfig } from '../image/background.js';
import { DEFAULT_PRESET, DEFAULT_SCORING, DEFAULT_TARGET_FPR, PRESETS, type Preset } from '../model/config.js';
import type { Device } from '../onnx/session.js';
import { UserError, invalid } from '../util/errors.js';

export type Values = Record<string, string | boolean | string[] | undefined>;

export function parse(argv: string[], options: ParseArgsConfig['options'], allowPositionals = false): { values: Values; positionals: string[] } {
  try {
    const r = parseArgs({ args: argv, options: { ...options, quiet: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
    return { values: r.values as Values, positionals: r.positionals };
  } catch (e) {
    throw new UserError((e as Error).message.split('\n')[0]);
  }
}

export function str(v: Values, name: string, fallback?: string): string {
  const x = v[name];
  if (typeof x === 'string') return x;
  if (fallback !== undefined) return fallback;
  throw new UserError(`--${name} is required`);
}

/** A string flag that may be absent. */
export function optStr(v: Values, name: string): string | undefined {
  const x = v[name];
  return typeof x === 'string' ? x : undefined;
}

export function num(v: Values, name: string, fallback: number, check: (x: number) => boolean = () => true, range = ''): number {
  const x = v[name];
  if (x === undefined) return fallback;
  const n = Number(x);
  if (typeof x !== 'string' || x.trim() === '' || !Number.isFinite(n) || !check(n)) throw new UserError(`--${name} ${String(x)}: expected ${range || 'a number'}`);
  return n;
}

export const isInt = (lo: number, hi = Infinity) => (x: number) => Number.isInteger(x) && x >= lo && x <= hi;

/** --background and its settings (fit, eval, sweep, preprocess); any of them turns removal on. */
export const BACKGROUND_FLAGS = {
  background: { type: 'boolean' },
  'bg-range': { type: 'string' },
  'bg-morph': { type: 'string' },
  'bg-filter': { type: 'string' },
  'bg-size': { type: 'string' },
  'bg-connected': { type: 'boolean' },
} as const;

/** Options shared by fit, eval and sweep. */
export const MODEL_FLAGS = {
  backbone: { type: 'string' },
  layers: { type: 'string' },
  mean: { type: 'string' },
  std: { type: 'string' },
  'input-size': { type: 'string' },
  weights: { type: 'string' },
  device: { type: 'string' },
  resize: { type: 'string' },
  crop: { type: 'string' },
  dim: { type: 'string' },
  coreset: { type: 'string' },
  seed: { type: 'string' },
  score: { type: 'string' },
  k: { type: 'string' },
  b: { type: 'string' },
  squared: { type: 'boolean' },
  reweight: { type: 'boolean' },
  sigma: { type: 'string' },
  ...BACKGROUND_FLAGS,
  batch: { type: 'string' },
  precision: { type: 'string' },
  preset: { type: 'string' },
  'target-fpr': { type: 'string' },
  'calibration-images': { type: 'string' },
} as const;

export function device(v: Values): Device {
  const d = str(v, 'device', 'cpu');
  if (d !== 'cpu' && d !== 'cuda') throw new UserError(`--device ${d}: expected cpu or cuda`);
  return d;
}

export function preprocessFlags(v: Values, defaults: { resize: number; crop: number | 'none' } = { resize: 256, crop: 224 }): Omit<PreprocessConfig, 'mean' | 'std'> {
  const resize = num(v, 'resize', defaults.resize, isInt(16, 4096), 'an integer 16..4096');
  const c = v.crop;
  const crop = c === 'none' ? 'none' : num(v, 'crop', typeof defaults.crop === 'number' ? defaults.crop : 224, isInt(16, 4096), "an integer 16..4096 or 'none'");
  if (typeof crop === 'number' && crop > resize) throw new UserError(`--crop ${crop} is larger than --resize ${resize}`);
  return { resize, crop: c === undefined && defaults.crop === 'none' ? 'none' : crop };
}

export function scoringFlags(v: Values): ScoringConfig {
  const kind = str(v, 'score', DEFAULT_SCORING.kind) as ScoreKind;
  if (!['nearest', 'knn-mean', 'neighbourhood'].includes(kind)) throw new UserError(`--score ${kind}: expected nearest, knn-mean or neighbourhood`);
  return {
    kind,
    k: num(v, 'k', DEFAULT_SCORING.k, isInt(1, 1000), 'an integer 1..1000'),
    b: num(v, 'b', DEFAULT_SCORING.b, isInt(1, 1000), 'an integer 1..1000'),
    squared: v.squared === true,
    reweight: v.reweight === true,
    sigma: num(v, 'sigma', DEFAULT_SCORING.sigma, (x) => x >= 0 && x <= 64, 'a number 0..64'),
  };
}

/** --background turns removal on; any --bg-* flag implies it. */
export function backgroundFlags(v: Values): BackgroundConfig | null {
  if (!Object.keys(BACKGROUND_FLAGS).some((k) => v[k] !== undefined)) return null;
  const cfg: BackgroundConfig = {
    range: v['bg-range'] !== undefined ? parseBgRange(str(v, 'bg-range')) : DEFAULT_BACKGROUND.range,
    morph: num(v, 'bg-morph', DEFAULT_BACKGROUND.morph),
    filter: str(v, 'bg-filter', DEFAULT_BACKGROUND.filter) as BackgroundConfig['filter'],
    size: num(v, 'bg-size', DEFAULT_BACKGROUND.size),
    ...(v['bg-connected'] === true ? { connected: true } : {}),
  };
  validateBackgroundConfig(cfg);
  return cfg;
}

export function coresetFlag(v: Values): number {
  return num(v, 'coreset', 0.1, (x) => x > 0 && x <= 1, 'a ratio in (0, 1]');
}

/** --target-fpr A: the false-alarm rate fit's threshold aims at. */
export function targetFprFlag(v: Values): number {
  return num(v, 'target-fpr', DEFAULT_TARGET_FPR, (x) => x > 0 && x < 1, 'a false-alarm rate in (0, 1)');
}

/** --calibration-images N: training images scored for the threshold (0 = all; default: the library's). */
export function calibrationImagesFlag(v: Values): number | undefined {
  return v['calibration-images'] === undefined ? undefined : num(v, 'calibration-images', 0, isInt(0, 1e6), 'a non-negative integer (0 = all)');
}

export function seedFlag(v: Values): number {
  return num(v, 'seed', 0, isInt(0, 2 ** 31 - 1), 'a non-negative integer');
}

export function listFlag(v: Values, name: string, fallback: string): string[] {
  return str(v, name, fallback).split(',').map((s) => s.trim()).filter(Boolean);
}

/** --precision fp32|int8 (default: the preset's). */
export function precisionFlag(v: Values, fallback: Precision = 'fp32'): Precision {
  return parsePrecision(str(v, 'precision', fallback));
}

/**
 * --preset NAME: the defaults the other extraction flags override (src/model/config.ts). A preset
 * was measured with its own backbone: with another --backbone and no --preset, the first default
 * (v1: 256 / center crop 224, fp32) applies, as fixed-size user models and the official code expect.
 */
export function presetFlag(v: Values): Preset {
  const name = str(v, 'preset', typeof v.backbone === 'string' && v.backbone !== PRESETS[DEFAULT_PRESET].backbone ? 'v1' : DEFAULT_PRESET);
  const p = PRESETS[name];
  if (!p) throw invalid('--preset', `one of ${Object.keys(PRESETS).join(', ')}`, name);
  return p;
}
