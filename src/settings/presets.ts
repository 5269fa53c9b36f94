// Presets: the extraction defaults of fit, eval and sweep by name, and the one place that says how
// a preset and explicit settings combine (the CLI, the library, the web page and bench all call it).
import type { Precision } from '../backbone/int8.js';
import type { ForegroundMode } from '../foreground/mask.js';
import type { BackgroundConfig } from '../image/background.js';
import type { PreprocessConfig, ScoringConfig } from '../types.js';
import { invalid } from '../util/errors.js';
import { RATIO, SEED } from './coreset.js';
import { checkMember, checkNumber, enumSetting } from './define.js';
import { CROP, FEATURE_DIM, FOREGROUND, PRECISION, RESIZE } from './extraction.js';
import { B, DEFAULT_SCORING, K, SCORE_KIND, SIGMA } from './scoring.js';
import { TARGET_FPR } from './threshold.js';

export interface Preset {
  backbone: string;
  preprocess: Omit<PreprocessConfig, 'mean' | 'std'>;
  featureDim: number;
  precision: Precision;
  /** Coreset ratio: the bank grows with the patch count, so whole images at 320–352 px take a smaller share. */
  ratio: number;
  description: string;
}

export const PRESETS: Record<string, Preset> = {
  v1: {
    backbone: 'inception_v3',
    preprocess: { resize: 256, crop: 224 },
    featureDim: 0,
    precision: 'fp32',
    ratio: 0.1,
    description: 'the first default: inception_v3, resize 256, center crop 224 (drops the sides of non-square images), coreset 10 %',
  },
  v2: {
    backbone: 'inception_v3',
    preprocess: { resize: 320, crop: 'none' },
    featureDim: 0,
    precision: 'int8',
    ratio: 0.01,
    description: 'inception_v3 int8, resize 320, whole image (no crop), coreset 1 %: the default of 0.2 (docs/RESULTS.md#presets-and-settings-compared)',
  },
  v3: {
    backbone: 'inception_v3',
    preprocess: { resize: 352, crop: 'none' },
    featureDim: 0,
    precision: 'int8',
    ratio: 0.005,
    description:
      "inception_v3 int8, resize 352, whole image (no crop), coreset 0.5 %: the finest resolution measured whose fit is about 2× v1's (docs/RESULTS.md#presets-and-settings-compared)",
  },
};

/**
 * The preset used when none is named (docs/RESULTS.md#accuracy-of-the-default). v3 against v2, image
 * AUROC: tire +0.043 over 7 runs (paired on 3-seed mean scores +0.070, +0.010 … +0.135); screw
 * −0.024 over 7 runs on the 41 good test images (paired −0.026, −0.057 … +0.001) but −0.004
 * (−0.019 … +0.010) with the held-out training goods added. Fit 2.00× v1's on tire (at the issue's
 * budget), 1.4× on screw; predict faster than v1's.
 */
export const DEFAULT_PRESET = 'v3';

export const PRESET = enumSetting({
  key: 'preset',
  flag: 'preset',
  arg: Object.keys(PRESETS).join('|'),
  help: "the defaults the other flags override: `v3` inception_v3 int8, 352, whole image, coreset 0.5 %; `v2` (0.2's default) the same at 320 and 1 %; `v1` (the first default) inception_v3 fp32, 256 / crop 224, coreset 10 % (docs/RESULTS.md, accuracy study). With another --backbone and no --preset, v1",
  members: Object.keys(PRESETS),
  default: DEFAULT_PRESET,
});

/** Everything a fit is set by, resolved: the preset's values where nothing was given. */
export interface FitSettings {
  /** The preset the unset values came from. */
  preset: string;
  /** The backbone id (the preset's unless given). */
  backbone: string;
  preprocess: Omit<PreprocessConfig, 'mean' | 'std'>;
  featureDim: number;
  precision: Precision;
  ratio: number;
  seed: number;
  scoring: ScoringConfig;
  background: BackgroundConfig | null;
  foreground: ForegroundMode;
  targetFpr: number;
}

/** Explicit settings: each one given overrides the preset's (or the default's). */
export type FitOverrides = Partial<Omit<FitSettings, 'preset' | 'preprocess' | 'scoring'>> & {
  preprocess?: Partial<FitSettings['preprocess']>;
  scoring?: Partial<ScoringConfig>;
};

/**
 * The preset named, else the default; a preset was measured with its own backbone, so with
 * another backbone and no preset named, v1 applies.
 */
export function presetNameFor(name: string | undefined, backbone?: string): string {
  if (name !== undefined) return checkMember(PRESET, name);
  return backbone !== undefined && backbone !== PRESETS[DEFAULT_PRESET].backbone ? 'v1' : DEFAULT_PRESET;
}

/** The preset's resize and crop where not given; a crop no larger than the resize. */
export function preprocessOf(p: Preset, given: Partial<Preset['preprocess']> = {}): Preset['preprocess'] {
  const resize = checkNumber(RESIZE, given.resize ?? p.preprocess.resize);
  const crop = given.crop ?? p.preprocess.crop;
  if (crop !== 'none') checkNumber(CROP, crop);
  if (typeof crop === 'number' && crop > resize) throw invalid(CROP.key, `a size no larger than the resize (${resize})`, crop);
  return { resize, crop };
}

/** The settings of a fit: `overrides` where given (each checked against its bounds), else the preset's or the default. */
export function resolveFitOptions(preset: string | undefined, overrides: FitOverrides = {}): FitSettings {
  const name = presetNameFor(preset, overrides.backbone);
  const p = PRESETS[name];
  const o = overrides;
  const s = { ...DEFAULT_SCORING, ...o.scoring };
  return {
    preset: name,
    backbone: o.backbone ?? p.backbone,
    preprocess: preprocessOf(p, o.preprocess),
    featureDim: checkNumber(FEATURE_DIM, o.featureDim ?? p.featureDim),
    precision: checkMember(PRECISION, o.precision ?? p.precision),
    ratio: checkNumber(RATIO, o.ratio ?? p.ratio),
    seed: checkNumber(SEED, o.seed ?? SEED.default),
    scoring: { ...s, kind: checkMember(SCORE_KIND, s.kind), k: checkNumber(K, s.k), b: checkNumber(B, s.b), sigma: checkNumber(SIGMA, s.sigma) },
    background: o.background ?? null,
    foreground: checkMember(FOREGROUND, o.foreground ?? FOREGROUND.default),
    targetFpr: checkNumber(TARGET_FPR, o.targetFpr ?? TARGET_FPR.default),
  };
}
