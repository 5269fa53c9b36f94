// The option groups several commands share, and the configs built from their checked values.
// Each flag is declared once here (or in its command); parsing, help and README come from these tables.
import { PRECISIONS } from '../backbone/int8.js';
import { backboneIds } from '../backbone/index.js';
import { DEFAULT_BACKGROUND, parseBgRange, validateBackgroundConfig, type BackgroundConfig } from '../image/background.js';
import { DEFAULT_PRESET, DEFAULT_SCORING, DEFAULT_TARGET_FPR, PRESETS, type Preset } from '../model/config.js';
import type { Precision } from '../backbone/int8.js';
import type { PreprocessConfig, ScoringConfig } from '../types.js';
import { invalid } from '../util/errors.js';
import { EXACT_MAX_ROWS, type CoresetMethod } from '../memory/index.js';
import { FOREGROUND_MODES } from '../foreground/mask.js';
import { SCORE_KINDS, scoringRule } from '../scoring/rules/index.js';
import { choice, custom, flag, integer, number, oneOf, text, type Values } from './options.js';

export const DEVICE = choice('cpu|cuda', 'ONNX Runtime execution provider', ['cpu', 'cuda'] as const, 'cpu');
export const WEIGHTS = text('FILE', 'the torchvision weights file (.pth or .safetensors) the backbone was built from, if not in the cache');
export const THRESHOLD = number('T', 'verdict threshold on the image score, instead of the stored one', 'a number', undefined, () => true);

/** --background and its settings (fit, eval, sweep, preprocess); any of them turns removal on. */
export const BACKGROUND_OPTIONS = {
  background: flag("background-anomaly removal before PatchCore (the report's masked filter); any --bg-* flag turns it on"),
  'bg-range': custom('R,G,B:R,G,B|auto', 'background colours, low:high per channel, or `auto` (estimated from the training images\' borders)', undefined, (s, f) => parseBgRange(s, f), { shown: '150,150,150:255,255,255', key: 'background.range' }),
  'bg-morph': integer('K', 'open-then-close size that cleans the background mask; <= 1 turns it off', 0, 255, undefined, { shown: String(DEFAULT_BACKGROUND.morph), key: 'background.morph' }),
  'bg-filter': custom('average|median', 'filter applied to the background pixels only', undefined, (s, f) => {
    if (s !== 'average' && s !== 'median') throw invalid(f, '"average" or "median"', s);
    return s;
  }, { shown: DEFAULT_BACKGROUND.filter, key: 'background.filter' }),
  'bg-size': integer('K', 'filter window (the median filter needs an odd size)', 1, 255, undefined, { shown: String(DEFAULT_BACKGROUND.size), key: 'background.size' }),
  'bg-connected': flag('a mask that follows the object by connectivity instead of open/close'),
} as const;

/** The default preset, for the defaults shown in help. */
const D = PRESETS[DEFAULT_PRESET];

/** The backbone options shared by fit, eval and sweep. */
export const BACKBONE_OPTIONS = {
  preset: custom('v1|v2|v3', "the defaults the other flags override: `v3` inception_v3 int8, 352, whole image, coreset 0.5 %; `v2` (0.2's default) the same at 320 and 1 %; `v1` (the first default) inception_v3 fp32, 256 / crop 224, coreset 10 % (docs/RESULTS.md, accuracy study). With another --backbone and no --preset, v1", undefined, (s, f) => {
    if (!(s in PRESETS)) throw invalid(f, oneOf(Object.keys(PRESETS)), s);
    return s;
  }, { shown: DEFAULT_PRESET }),
  backbone: custom('ID', '`inception_v3`, `mobilenet_v2`, `mobilenet_v2_mid` (offline, from nsfwjs), `wide_resnet50_2`, `resnet18` (ImageNet, after `backbone fetch`), or `FILE.onnx` with `--layers`', undefined, (s, f) => {
    if (!/\.onnx$/i.test(s) && !backboneIds().includes(s)) throw invalid(f, `${oneOf(backboneIds())} or a FILE.onnx`, s);
    return s;
  }, { shown: 'inception_v3' }),
  layers: text('A,B', 'FILE.onnx backbone: the two tensors to tap, shallow (stride 8) then deep (stride 16)', { key: 'layers' }),
  mean: text('R,G,B', 'FILE.onnx backbone: normalisation mean of RGB/255', { shown: '0.485,0.456,0.406', key: 'mean' }),
  std: text('R,G,B', 'FILE.onnx backbone: normalisation std', { shown: '0.229,0.224,0.225', key: 'std' }),
  'input-size': integer('N', 'FILE.onnx backbone: the side of the probe run that learns the strides', 16, 4096, undefined, { shown: '224', key: 'inputSize' }),
  weights: WEIGHTS,
  precision: custom('fp32|int8', '`int8`: the backbone is quantized (int8 weights per channel, uint8 activations calibrated on 8 training images) and run by integer kernels; the bank and the NN search stay float32 and exact. Saved models keep the calibration, so predict, serve and export use the same int8 graph', undefined, (s, f) => {
    if (!(PRECISIONS as readonly string[]).includes(s)) throw invalid(f, oneOf(PRECISIONS), s);
    return s as Precision;
  }, { shown: `the preset's (${D.precision})` }),
  device: DEVICE,
  batch: integer('N', 'images per backbone batch (default: 8 at 224 px, fewer for larger inputs)', 1, 256, undefined, { shown: '8 at 224 px' }),
} as const;

/** Everything fit, eval and sweep share: backbone, preprocessing, coreset, scoring, background. */
export const MODEL_OPTIONS = {
  ...BACKBONE_OPTIONS,
  coreset: number('R', "coreset ratio in (0, 1]; the paper's 1 % is 0.01", 'a ratio in (0, 1]', undefined, (x) => x > 0 && x <= 1, { key: 'ratio', shown: `the preset's (${D.ratio})` }),
  'coreset-method': choice('auto|exact|composable', `\`exact\`: PatchCore's greedy; \`composable\`: greedy on blocks, then on their union, its last quarter the greedy continued over all rows (a cost fixed by the size); \`auto\`: exact unless its work heads past the composable one's, composable directly above ${EXACT_MAX_ROWS / 1000}k patches`, ['auto', 'exact', 'composable'] as const, 'auto'),
  'coreset-exact': flag('short for --coreset-method exact: the PatchCore-exact bank'),
  seed: integer('N', 'coreset seed; the same seed gives the same bank', 0, 2 ** 31 - 1, 0, { expected: 'a non-negative integer' }),
  score: choice('', `image score: ${SCORE_KINDS.map((k) => scoringRule(k).help).join(', ')}`, SCORE_KINDS, DEFAULT_SCORING.kind),
  k: integer('K', 'neighbours of the knn-mean score', 1, 1000, DEFAULT_SCORING.k, { key: 'k' }),
  b: integer('B', 'neighbourhood size of the neighbourhood score and of --reweight', 1, 1000, DEFAULT_SCORING.b, { key: 'b' }),
  squared: flag('report squared distances d², as the official faiss code does (default: true distances)'),
  reweight: flag('PatchCore eq. 7 image-score reweighting with b = --b'),
  sigma: number('S', 'Gaussian sigma of the anomaly map, in pixels', 'a number 0..64', DEFAULT_SCORING.sigma, (x) => x >= 0 && x <= 64),
  resize: integer('N', 'shorter side after resizing', 16, 4096, undefined, { key: 'resize', shown: `the preset's (${D.preprocess.resize})` }),
  crop: custom('N|none', 'center crop; `none` keeps the borders of non-square images', undefined as number | 'none' | undefined, (s, f) => {
    if (s === 'none') return 'none' as const;
    const n = Number(s);
    if (!Number.isInteger(n) || n < 16 || n > 4096) throw invalid(f, 'an integer 16..4096 or "none"', Number.isFinite(n) ? n : s);
    return n;
  }, { shown: `the preset's (${D.preprocess.crop})`, key: 'crop' }),
  dim: integer('N', 'reduce patch features to N dims by adaptive average pooling, as the official code\'s 1024 (0 keeps all)', 0, 100000, undefined, { shown: '0' }),
  ...BACKGROUND_OPTIONS,
  foreground: choice('off|auto|pca|range', 'score only the object: patches outside a foreground mask score zero, in predict and in the threshold. `pca`: the training patches\' first principal component, thresholded (Otsu), closed and dilated on the patch grid; `auto`: that mask only when the training images agree on a stable foreground (fit says which and why); `range`: the report\'s RGB range (the --bg-range, else 150-255 is background) on the patch grid. `export` carries pca (and auto), not range', FOREGROUND_MODES, 'off'),
  'target-fpr': number('A', 'false-alarm rate the saved threshold aims at on good parts: the conformal quantile of leave-one-image-out training scores (README: Deciding good or bad)', 'a false-alarm rate in (0, 1)', DEFAULT_TARGET_FPR, (x) => x > 0 && x < 1, { key: 'targetFpr' }),
  'calibration-images': integer('N', 'training images scored for that threshold (a seeded random sample; 0 = all): more is steadier and slower', 0, 1e6, undefined, { shown: '40, or 2/A if more', expected: 'a non-negative integer (0 = all)', key: 'calibrationImages' }),
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

/**
 * --preset NAME: the defaults the other extraction flags override (src/model/config.ts). A preset
 * was measured with its own backbone: with another --backbone and no --preset, v1 applies.
 */
export function presetOf(v: { preset?: string; backbone?: string }): Preset {
  const name = v.preset ?? (v.backbone !== undefined && v.backbone !== PRESETS[DEFAULT_PRESET].backbone ? 'v1' : DEFAULT_PRESET);
  return PRESETS[name];
}

/** --coreset, else the preset's ratio. */
export function coresetRatio(v: { coreset?: number; preset?: string; backbone?: string }): number {
  return v.coreset ?? presetOf(v).ratio;
}

export function preprocessFlags(v: Pick<ModelValues, 'resize' | 'crop'>, preset: Preset): Omit<PreprocessConfig, 'mean' | 'std'> {
  const resize = v.resize ?? preset.preprocess.resize;
  const crop = v.crop ?? preset.preprocess.crop;
  if (typeof crop === 'number' && crop > resize) throw invalid('--crop', `a size no larger than --resize ${resize}`, crop);
  return { resize, crop };
}

export function scoringFlags(v: Pick<ModelValues, 'score' | 'k' | 'b' | 'squared' | 'reweight' | 'sigma'>): ScoringConfig {
  return { kind: v.score, k: v.k, b: v.b, squared: v.squared, reweight: v.reweight, sigma: v.sigma };
}

/** --background turns removal on; any --bg-* flag implies it. Null when off. */
export function backgroundFlags(v: BackgroundValues): BackgroundConfig | null {
  if (!v.background && v['bg-range'] === undefined && v['bg-morph'] === undefined && v['bg-filter'] === undefined && v['bg-size'] === undefined && !v['bg-connected']) return null;
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
  const items = s.split(',').map((x) => x.trim()).filter(Boolean);
  if (items.length === 0) throw invalid(flag, expected, s);
  return items;
}
