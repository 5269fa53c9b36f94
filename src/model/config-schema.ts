// model.json checked field by field on load (zod), so a hand-edited or damaged file fails with one
// line naming the field: `Expected a positive integer for model.json bank.size but received -3`.
// Objects are loose: fields a newer writer adds pass through untouched. Adding a field is one line.
import { z } from 'zod';
import { invalid, UserError } from '../util/errors.js';
import type { BackgroundConfig, BgRange } from '../image/background.js';
import { MODEL_FORMAT, upgradeThreshold, type ModelConfig } from './config.js';
import { isScoreKind, scoreKindList, type ScoreKind } from '../scoring/rules/index.js';
import { B, BG_FILTER, BG_MORPH, BG_SIZE, CROP, FEATURE_DIM, FOREGROUND, K, RATIO, RESIZE, SEED, SIGMA, zodEnum, zodNumber } from '../settings/index.js';

const int = (lo: number, hi: number, what = `an integer ${lo}..${hi}`) =>
  z.number({ error: what }).int({ error: what }).min(lo, { error: what }).max(hi, { error: what });
const finite = (what = 'a finite number') => z.number({ error: what }).refine(Number.isFinite, { error: what });
const text = (what = 'a string') => z.string({ error: what });
const flag = z.boolean({ error: 'true or false' });
const sha256 = z.string({ error: 'a sha256 (64 hex digits)' }).regex(/^[0-9a-f]{64}$/, { error: 'a sha256 (64 hex digits)' });
const rgb = (lo: number, hi: number) =>
  z
    .tuple([finite(), finite(), finite()], { error: `three numbers in [${lo}, ${hi}]` })
    .refine((t) => t.every((x) => x >= lo && x <= hi), { error: `three numbers in [${lo}, ${hi}]` });
const obj = <T extends z.ZodRawShape>(what: string, shape: T) => z.object(shape, { error: what }).loose();

const METHODS = ['conformal', 'f1-max', 'min-recall', 'manual'] as const;
const rate = z.number({ error: 'a rate in [0, 1]' }).min(0, { error: 'a rate in [0, 1]' }).max(1, { error: 'a rate in [0, 1]' });
const thresholdInfo = obj('an object { method, n, date }', {
  method: z.enum(METHODS, { error: METHODS.map((m) => `"${m}"`).join(', ') }),
  n: int(0, 2 ** 31),
  date: text('a date string'),
  targetFpr: rate.optional(),
  promisedFpr: rate.optional(),
  // null where calibrate had no image of a class (NaN is written as null)
  f1: rate
    .nullable()
    .optional()
    .transform((x) => x ?? undefined),
  recall: rate
    .nullable()
    .optional()
    .transform((x) => x ?? undefined),
  fpr: rate
    .nullable()
    .optional()
    .transform((x) => x ?? undefined),
  source: text().optional(),
  warning: text().optional(),
});

/** A bank file must sit in the model directory: a plain name, no path separator, no `..`. */
export const PLAIN_FILE = /^(?!\.\.?$)[A-Za-z0-9._-]+$/;

const schema = obj('an object', {
  format: z.literal(MODEL_FORMAT, { error: `"${MODEL_FORMAT}"` }),
  createdAt: text('a date string'),
  tool: obj('{ name, version }', { name: text(), version: text() }).optional(),
  trainingData: obj('{ images, sha256, method }', { images: int(1, 2 ** 31), sha256, method: text() }).optional(),
  backbone: obj('an object { id, hash, layers }', {
    id: text('a backbone id or .onnx path').min(1, { error: 'a backbone id or .onnx path' }),
    hash: sha256,
    layers: z.tuple([text(), text()], { error: 'two tensor names' }),
    int8: obj('{ images, ranges }', {
      images: int(1, 1e6),
      ranges: z.record(z.string(), z.tuple([finite(), finite()]), { error: 'tensor name -> [min, max]' }),
    }).optional(),
  }),
  preprocess: obj('an object { resize, crop, mean, std }', {
    resize: zodNumber(RESIZE),
    crop: z.union([zodNumber(CROP), z.literal('none')], { error: CROP.expected }),
    mean: rgb(-10, 10),
    std: rgb(1e-6, 1e6),
  }),
  background: obj('null or an object { range, morph, filter, size }', {
    range: obj('{ lo, hi } RGB bounds', { lo: rgb(0, 255), hi: rgb(0, 255) }),
    morph: zodNumber(BG_MORPH),
    filter: zodEnum(BG_FILTER),
    size: zodNumber(BG_SIZE),
    estimated: text().optional(),
    connected: flag.optional(),
  }).nullable(),
  featureDim: zodNumber(FEATURE_DIM),
  coreset: obj('an object { ratio, seed, trainPatches }', {
    ratio: zodNumber(RATIO),
    seed: zodNumber(SEED),
    trainPatches: int(1, 2 ** 53),
    method: text().optional(),
    radius: z.number({ error: 'a non-negative number' }).min(0, { error: 'a non-negative number' }).optional(),
  }),
  scoring: obj('an object { kind, k, b, squared, reweight, sigma }', {
    kind: z.custom<ScoreKind>(isScoreKind, { error: scoreKindList }),
    k: zodNumber(K),
    b: zodNumber(B),
    squared: flag,
    reweight: flag,
    sigma: zodNumber(SIGMA),
  }),
  foreground: obj('an object { requested, mask, reason, close, dilate }', {
    requested: zodEnum(FOREGROUND),
    mask: z.enum(['pca', 'range', 'none'], { error: '"pca", "range" or "none"' }),
    reason: text(),
    close: int(0, 64),
    dilate: int(0, 64),
    pca: obj('an object { axis, offset, cut, separation, agreement, share }', {
      axis: z.array(finite(), { error: 'an array of numbers' }).min(1, { error: 'an array of numbers' }),
      offset: finite(),
      cut: finite(),
      separation: rate,
      agreement: rate.nullable(),
      share: rate,
    }).optional(),
    range: obj('{ lo, hi } RGB bounds', { lo: rgb(0, 255), hi: rgb(0, 255) }).optional(),
  })
    .refine((f) => (f.mask === 'pca' ? f.pca !== undefined : f.mask === 'range' ? f.range !== undefined : true), {
      error: 'a pca entry for mask "pca", a range for mask "range"',
    })
    .optional(),
  bank: obj('an object { file, sha256, size, dim, b }', {
    file: z.string({ error: 'a plain file name in the model directory' }).regex(PLAIN_FILE, { error: 'a plain file name in the model directory' }),
    sha256,
    size: int(1, 2 ** 31),
    dim: int(1, 100000),
    b: int(0, 1000),
  }),
  // n: 0 in files from before calibrated thresholds
  trainScores: obj('an object { mean, std, max, n }', {
    mean: finite(),
    std: finite(),
    max: finite(),
    n: int(0, 2 ** 31).default(0),
    median: finite().optional(),
  }),
  threshold: finite(),
  thresholdInfo,
  pixelThreshold: finite().nullable(),
  pixelThresholdInfo: thresholdInfo.optional(),
  normalization: obj('an object { scale }', { scale: z.number({ error: 'a positive number' }).gt(0, { error: 'a positive number' }) }),
  leaveOneOut: obj('an object { files, image, pixel }', {
    files: z.array(text(), { error: 'a list of names' }),
    image: z.array(finite(), { error: 'a list of numbers' }),
    pixel: z.array(finite(), { error: 'a list of numbers' }),
  })
    .refine((l) => l.files.length === l.image.length && l.pixel.length === l.image.length, { error: 'lists of one length' })
    .optional(),
  parent: text('a model_id').optional(),
  update: obj('an object { date, added, failed, radius, threshold }', {
    date: text('a date string'),
    added: z.array(obj('{ file, entries }', { file: text(), entries: int(0, 2 ** 31) }), { error: 'a list' }),
    failed: z.array(obj('{ file, error }', { file: text(), error: text() }), { error: 'a list' }),
    radius: finite(),
    radiusEstimated: flag.optional(),
    threshold: text(),
  }).optional(),
  suspects: obj('an object { alpha, bound, scored, of, images }', {
    alpha: rate,
    bound: finite(),
    scored: int(0, 2 ** 31),
    of: int(0, 2 ** 31),
    images: z.array(obj('{ file, score }', { file: text(), score: finite() }), { error: 'a list' }),
    excluded: flag.optional(),
  }).optional(),
});

/** A loose object's type without its `[key: string]: unknown` (the fields a newer writer may add). */
type Closed<T> = T extends readonly unknown[]
  ? { [I in keyof T]: Closed<T[I]> }
  : T extends object
    ? { [K in keyof T as string extends K ? (unknown extends T[K] ? never : K) : K]: Closed<T[K]> }
    : T;

/** A ModelConfig as fit saves it: `--bg-range auto` resolved to the range used. */
type Saved = ModelConfig & { background: (BackgroundConfig & { range: BgRange }) | null };

// The schema and ModelConfig must agree both ways, so neither can gain a field or an enum member
// alone: what the schema accepts is a ModelConfig (a field or member missing from the schema, or
// added there only, fails to compile), and every ModelConfig is what the schema accepts (a saved
// model always loads again).
const _covers = (c: z.infer<typeof schema>): ModelConfig => c;
const _accepts = (c: Saved): Closed<z.input<typeof schema>> => c;
void _covers, _accepts;

/** The checked config, or a UserError naming the first bad field (`model.json bank.file`). */
export function validateModelConfig(json: unknown, label = 'model.json'): ModelConfig {
  const r = schema.safeParse(json);
  if (r.success) {
    const axis = r.data.foreground?.pca?.axis;
    if (axis && axis.length !== r.data.bank.dim) throw invalid(`${label} foreground.pca.axis`, `${r.data.bank.dim} numbers (the bank's dim)`, axis);
    return r.data as ModelConfig;
  }
  const issue = r.error.issues[0];
  const at = issue.path.map(String).join('.');
  let actual: unknown = json;
  for (const k of issue.path) actual = actual && typeof actual === 'object' ? (actual as Record<PropertyKey, unknown>)[k] : undefined;
  throw invalid(`${label}${at ? ` ${at}` : ''}`, issue.message, actual);
}

/** Parse and check model.json (every field, config-schema.ts); wrong versions get a clear message. */
export function parseModelConfig(text: string, file: string): ModelConfig {
  let c: { format?: unknown };
  try {
    c = JSON.parse(text);
  } catch {
    throw new UserError(`${file}: not valid JSON`);
  }
  if (c?.format !== MODEL_FORMAT)
    throw new UserError(`${file}: model format '${String(c?.format)}' is not supported by this version (expects '${MODEL_FORMAT}'); refit the model`);
  // older files get their threshold fields derived first (config.ts), then everything is checked
  return validateModelConfig(c && typeof c === 'object' ? upgradeThreshold(c as ModelConfig) : c, file);
}
