// The option groups several commands share, and the configs built from their checked values.
// A tunable value's flag comes from its declaration in src/settings/ (fromSetting); flags that are
// not settings (paths, switches, the device) are declared here. Parsing, help and README come from these tables.
import { backboneIds } from '../backbone/index.js';
import { DEFAULT_BACKGROUND, parseBgRange, validateBackgroundConfig, type BackgroundConfig } from '../image/background.js';
import type { PreprocessConfig, ScoringConfig } from '../types.js';
import { invalid } from '../util/errors.js';
import { EXACT_MAX_ROWS, type CoresetMethod } from '../memory/index.js';
import {
  B,
  BATCH,
  BG_FILTER,
  BG_MORPH,
  BG_SIZE,
  CALIBRATION_IMAGES,
  CORESET_METHOD,
  CROP,
  DEFAULT_PRESET,
  FEATURE_DIM,
  FOREGROUND,
  INPUT_SIZE,
  K,
  PRECISION,
  PRESET,
  PRESETS,
  RATIO,
  RESIZE,
  SCORE_KIND,
  SEED,
  SIGMA,
  TARGET_FPR,
  preprocessOf,
  presetNameFor,
  resolveFitOptions,
  withinBounds,
  type Preset,
} from '../settings/index.js';
import { choice, custom, flag, fromSetting, number, oneOf, text, type Values } from './options.js';

export const DEVICE = choice('cpu|cuda', 'ONNX Runtime execution provider', ['cpu', 'cuda'] as const, 'cpu');
export const WEIGHTS = text('FILE', 'the torchvision weights file (.pth or .safetensors) the backbone was built from, if not in the cache');
export const THRESHOLD = number('T', 'verdict threshold on the image score, instead of the stored one', 'a number', undefined, () => true);

/** --background and its settings (fit, eval, sweep, preprocess); any of them turns removal on. */
export const BACKGROUND_OPTIONS = {
  background: flag("background-anomaly removal before PatchCore (the report's masked filter); any --bg-* flag turns it on"),
  'bg-range': custom(
    'R,G,B:R,G,B|auto',
    "background colours, low:high per channel, or `auto` (estimated from the training images' borders)",
    undefined,
    (s, f) => parseBgRange(s, f),
    { shown: '150,150,150:255,255,255', key: 'background.range' },
  ),
  // absent means "not asked for" (any of them turns removal on), so the CLI's default is undefined
  ...fromSetting({ ...BG_MORPH, default: undefined }, { shown: String(BG_MORPH.default) }),
  ...fromSetting({ ...BG_FILTER, default: undefined }, { shown: BG_FILTER.default }),
  ...fromSetting({ ...BG_SIZE, default: undefined }, { shown: String(BG_SIZE.default) }),
  'bg-connected': flag('a mask that follows the object by connectivity instead of open/close'),
} as const;

/** The default preset, for the defaults shown in help. */
const D = PRESETS[DEFAULT_PRESET];

/** The backbone options shared by fit, eval and sweep. */
export const BACKBONE_OPTIONS = {
  // absent: the default preset, or v1 with another backbone (settings/presets.ts)
  ...fromSetting({ ...PRESET, default: undefined }, { shown: DEFAULT_PRESET }),
  backbone: custom(
    'ID',
    '`inception_v3`, `mobilenet_v2`, `mobilenet_v2_mid` (offline, from nsfwjs), `wide_resnet50_2`, `resnet18` (ImageNet, after `backbone fetch`), or `FILE.onnx` with `--layers`',
    undefined,
    (s, f) => {
      if (!/\.onnx$/i.test(s) && !backboneIds().includes(s)) throw invalid(f, `${oneOf(backboneIds())} or a FILE.onnx`, s);
      return s;
    },
    { shown: 'inception_v3' },
  ),
  layers: text('A,B', 'FILE.onnx backbone: the two tensors to tap, shallow (stride 8) then deep (stride 16)', { key: 'layers' }),
  mean: text('R,G,B', 'FILE.onnx backbone: normalisation mean of RGB/255', { shown: '0.485,0.456,0.406', key: 'mean' }),
  std: text('R,G,B', 'FILE.onnx backbone: normalisation std', { shown: '0.229,0.224,0.225', key: 'std' }),
  ...fromSetting(INPUT_SIZE, { shown: '224' }),
  weights: WEIGHTS,
  ...fromSetting(PRECISION, { shown: `the preset's (${D.precision})` }),
  device: DEVICE,
  ...fromSetting(BATCH, { shown: '8 at 224 px' }),
} as const;

/** Everything fit, eval and sweep share: backbone, preprocessing, coreset, scoring, background. */
export const MODEL_OPTIONS = {
  ...BACKBONE_OPTIONS,
  ...fromSetting(RATIO, { shown: `the preset's (${D.ratio})` }),
  ...fromSetting({
    ...CORESET_METHOD,
    help: `\`exact\`: PatchCore's greedy; \`composable\`: greedy on blocks, then on their union, its last quarter the greedy continued over all rows (a cost fixed by the size); \`auto\`: exact unless its work heads past the composable one's, composable directly above ${EXACT_MAX_ROWS / 1000}k patches`,
  }),
  'coreset-exact': flag('short for --coreset-method exact: the PatchCore-exact bank'),
  ...fromSetting(SEED),
  ...fromSetting(SCORE_KIND),
  ...fromSetting(K),
  ...fromSetting(B),
  squared: flag('report squared distances d², as the official faiss code does (default: true distances)'),
  reweight: flag('PatchCore eq. 7 image-score reweighting with b = --b'),
  ...fromSetting(SIGMA),
  ...fromSetting(RESIZE, { shown: `the preset's (${D.preprocess.resize})` }),
  crop: custom(
    CROP.arg,
    CROP.help,
    undefined as number | 'none' | undefined,
    (s, f) => {
      if (s === 'none') return 'none' as const;
      const n = Number(s);
      if (!withinBounds(CROP, n)) throw invalid(f, CROP.expected, Number.isFinite(n) ? n : s);
      return n;
    },
    { shown: `the preset's (${D.preprocess.crop})`, key: CROP.key },
  ),
  ...fromSetting(FEATURE_DIM, { shown: '0' }),
  ...BACKGROUND_OPTIONS,
  ...fromSetting(FOREGROUND),
  ...fromSetting(TARGET_FPR),
  ...fromSetting(CALIBRATION_IMAGES, { shown: '40, or 2/A if more' }),
} as const;

type ModelValues = Values<typeof MODEL_OPTIONS>;
type BackgroundValues = Values<typeof BACKGROUND_OPTIONS>;

/** --coreset-method, or exact for --coreset-exact (the two must not disagree). */
export function coresetMethodFlag(v: Pick<ModelValues, 'coreset-method' | 'coreset-exact'>): CoresetMethod {
  const m = v['coreset-method'];
  if (!v['coreset-exact']) return m;
  if (m === 'composable') throw invalid('--coreset-method', 'exact or auto with --coreset-exact', m);
  return 'exact';
}

/** The preset the flags name: --preset, else the default, or v1 with another --backbone (settings/presets.ts). */
export function presetOf(v: { preset?: string; backbone?: string }): Preset {
  return PRESETS[presetNameFor(v.preset, v.backbone)];
}

/** --coreset, else the preset's ratio. */
export function coresetRatio(v: { coreset?: number; preset?: string; backbone?: string }): number {
  return resolveFitOptions(v.preset, { backbone: v.backbone, ratio: v.coreset }).ratio;
}

/** --resize and --crop, else the preset's. */
export function preprocessFlags(v: Pick<ModelValues, 'resize' | 'crop'>, preset: Preset): Omit<PreprocessConfig, 'mean' | 'std'> {
  return preprocessOf(preset, { resize: v.resize, crop: v.crop });
}

export function scoringFlags(v: Pick<ModelValues, 'score' | 'k' | 'b' | 'squared' | 'reweight' | 'sigma'>): ScoringConfig {
  return { kind: v.score, k: v.k, b: v.b, squared: v.squared, reweight: v.reweight, sigma: v.sigma };
}

/** --background turns removal on; any --bg-* flag implies it. Null when off. */
export function backgroundFlags(v: BackgroundValues): BackgroundConfig | null {
  if (
    !v.background &&
    v['bg-range'] === undefined &&
    v['bg-morph'] === undefined &&
    v['bg-filter'] === undefined &&
    v['bg-size'] === undefined &&
    !v['bg-connected']
  )
    return null;
  const cfg: BackgroundConfig = {
    range: v['bg-range'] ?? DEFAULT_BACKGROUND.range,
    morph: v['bg-morph'] ?? DEFAULT_BACKGROUND.morph,
    filter: v['bg-filter'] ?? DEFAULT_BACKGROUND.filter,
    size: v['bg-size'] ?? DEFAULT_BACKGROUND.size,
    ...(v['bg-connected'] ? { connected: true } : {}),
  };
  validateBackgroundConfig(cfg);
  return cfg;
}

/** A comma-separated flag value as its items; none at all is refused as `expected`. */
export function split(s: string, flag = 'the list', expected = 'a comma-separated list'): string[] {
  const items = s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  if (items.length === 0) throw invalid(flag, expected, s);
  return items;
}
