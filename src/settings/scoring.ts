// How a patch and an image are scored against the memory bank.
import type { ScoreKind, ScoringConfig } from '../types.js';
import { enumSetting, integerSetting, numberSetting } from './define.js';

/** The score kinds (the ScoreKind type of types.ts, listed; a kind missing here or there fails to compile). */
const KINDS = ['nearest', 'knn-mean', 'neighbourhood'] as const satisfies readonly ScoreKind[];
const _allKinds = (k: ScoreKind): (typeof KINDS)[number] => k;
void _allKinds;

export const SCORE_KIND = enumSetting({
  key: 'scoring.kind', flag: 'score', arg: KINDS.join('|'),
  help: "image score: `nearest` (PatchCore), `knn-mean` (mean of --k), `neighbourhood` (the report's eq. 3-4, --b)",
  members: KINDS, default: 'nearest',
});

export const K = integerSetting({ key: 'k', flag: 'k', arg: 'K', help: 'neighbours of the knn-mean score', min: 1, max: 1000, default: 3 });

export const B = integerSetting({ key: 'b', flag: 'b', arg: 'B', help: 'neighbourhood size of the neighbourhood score and of --reweight', min: 1, max: 1000, default: 9 });

export const SIGMA = numberSetting({
  key: 'sigma', flag: 'sigma', arg: 'S', help: 'Gaussian sigma of the anomaly map, in pixels',
  min: 0, max: 64, expected: 'a number 0..64', default: 4,
});

export const DEFAULT_SCORING: ScoringConfig = { kind: SCORE_KIND.default, k: K.default, b: B.default, squared: false, reweight: false, sigma: SIGMA.default };
