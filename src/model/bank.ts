// One coreset draw made ready to score: the bank, its search index and (when the scoring uses it)
// the N_b table. Shared by fit, eval, sweep and the leave-one-image-out threshold.
import type { MemoryBank, PatchFeatures, PatchScores, ScoringConfig } from '../types.js';
import { type FeatureStore, selectCoreset, type CoresetMethod } from '../memory/index.js';
import { NearestNeighbours, buildNeighbourTable } from '../scoring/nn.js';
import { bankView, imageScore, scorePatches, usesNeighbourTable, type BankView } from '../scoring/scores.js';
import type { Device } from '../onnx/session.js';
import { maskScores } from '../foreground/mask.js';

export type Progress = (stage: string, done: number, total: number) => void;

/** Bank + neighbour table + search index for one coreset draw. */
export interface FittedBank {
  bank: MemoryBank;
  nn: NearestNeighbours;
  /** Store row of each bank entry (known at fit time only). */
  origin?: Int32Array;
  /** How the coreset was selected, in words (fit time only; memory/select.ts). */
  coresetNote?: string;
}

/** What `bankFromStore` draws: the coreset's ratio, seed and method, and the scoring it is made ready for. */
export interface BankOptions {
  /** Fraction of patches kept, in (0, 1]. */
  ratio: number;
  seed: number;
  scoring: ScoringConfig;
  device?: Device;
  progress?: Progress;
  /** Default `auto`. */
  method?: CoresetMethod;
}

/**
 * Coreset bank for one seed. The N_b table (a bank-vs-bank search) is built only when the scoring
 * uses it (neighbourhood score, eq. 7 reweighting): for nearest and knn-mean it was ~5 % of fit.
 */
export async function bankFromStore(store: FeatureStore, o: BankOptions): Promise<FittedBank> {
  const { indices: origin, note } = await selectCoreset(store, {
    ratio: o.ratio,
    seed: o.seed,
    method: o.method,
    onProgress: (d, t) => o.progress?.('coreset', d, t),
  });
  // the original (unprojected) features of the coreset; no neighbour table yet
  const bank: MemoryBank = { dim: store.dim, size: origin.length, data: store.rows(origin) };
  const fb: FittedBank = { bank, nn: await NearestNeighbours.create(bank, { device: o.device }), origin, coresetNote: note };
  await ensureNeighbourTable(fb, o.scoring);
  return fb;
}

/**
 * Build the N_b table if `cfg` uses it and the bank lacks it (or holds a smaller b): at fit, or
 * later when a model's scoring is changed to one that needs it. Deterministic (exact search).
 */
export async function ensureNeighbourTable(fb: FittedBank, cfg: ScoringConfig): Promise<void> {
  if (!usesNeighbourTable(cfg)) return;
  const b = Math.min(cfg.b, fb.bank.size);
  if (fb.bank.neighbours && (fb.bank.b ?? 0) >= b) return;
  const table = await buildNeighbourTable(fb.bank, b, fb.nn);
  // b changes only with the table that holds it: a failed build leaves the bank as it was
  fb.bank.neighbours = table;
  fb.bank.b = b;
}

/**
 * Image score and patch scores of one image's features against a fitted bank (or a view of it).
 * With a foreground mask (`keep`, foreground/mask.ts) the background cells score zero, in the
 * patches, the map made from them and the image score.
 */
export interface ScoreFeaturesOptions {
  /** The bank as these scores see it (default: all of it); the leave-one-out threshold passes the bank less one image. */
  view?: BankView;
  /** The foreground cells (1 = scored); null or absent: every cell. */
  keep?: Uint8Array | null;
}

export async function scoreFeatures(
  f: PatchFeatures,
  fb: FittedBank,
  cfg: ScoringConfig,
  { view = bankView(fb.bank, fb.nn), keep = null }: ScoreFeaturesOptions = {},
): Promise<{ score: number; patches: PatchScores }> {
  await ensureNeighbourTable(fb, cfg);
  const patches = maskScores(await scorePatches(f.data, f.gridH, f.gridW, view, cfg), keep);
  return { score: imageScore(patches, f.data, view, cfg), patches };
}
