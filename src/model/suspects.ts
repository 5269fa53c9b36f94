// Training images that score like defects. "Good" folders from a line often hold a few defective
// parts; their leave-one-image-out scores stand out from the rest.
//
// Why not the conformal rank: a rank bound at α flags at most about αn images, and with the
// defects themselves in the sample the rank moves up onto them (five planted defects among 200
// images put the 0.01 quantile on the second largest score, a defect). The bound here is the one the
// normalised score already assumes (scoring/decision.ts): a logistic tail fitted on the median and
// q90, which a few outliers barely move. P(score > bound) = α under that tail.
import { normalizationScale } from '../scoring/decision.js';
import { invalid } from '../util/errors.js';

/** Default α: about one clean image in a hundred flagged if the logistic tail holds. */
export const DEFAULT_SUSPECT_ALPHA = 0.01;

export interface Suspects {
  alpha: number;
  /** Scores above this are suspects: q50 + scale · ln((1 − α) / α), scale = (q90 − q50) / ln 9. */
  bound: number;
  /** Images scored, and of how many training images (fewer: a sample was scored). */
  scored: number;
  of: number;
  /** Highest score first. */
  images: { file: string; score: number }[];
  /** Set when a refit left them out (fit --exclude-suspects). */
  excluded?: boolean;
}

/** The scored images above the logistic bound at `alpha`. */
export function findSuspects(files: string[], scores: number[], of: number, alpha = DEFAULT_SUSPECT_ALPHA): Suspects {
  if (!(alpha > 0 && alpha < 0.5)) throw invalid('suspectAlpha', 'a number in (0, 0.5)', alpha);
  const s = Float64Array.from(scores).sort();
  const q50 = s[Math.min(s.length - 1, Math.floor(0.5 * (s.length - 1) + 0.5))];
  const bound = q50 + normalizationScale(scores) * Math.log((1 - alpha) / alpha);
  const images = files
    .map((file, i) => ({ file, score: scores[i] }))
    .filter((x) => x.score > bound)
    .sort((a, b) => b.score - a.score);
  return { alpha, bound, scored: scores.length, of, images };
}

/** One line per suspect for fit's and eval's output. */
export function describeSuspects(s: Suspects): string {
  const head = `${s.images.length} suspect training image(s): leave-one-out score above ${s.bound.toFixed(4)} (logistic tail at α = ${s.alpha}), of ${s.scored}${s.scored < s.of ? ` sampled of ${s.of} (--calibration-images 0 scores all)` : ''} scored${s.excluded ? '; excluded from this fit' : ''}`;
  return [head, ...s.images.map((x) => `  ${x.file}  ${x.score.toFixed(4)}`)].join('\n');
}
