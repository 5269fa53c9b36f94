// How a patch and an image are scored against the memory bank.
import type { ScoringConfig } from '../types.js';
import { SCORE_KINDS, isScoreKind, scoreKindList, scoringRule } from '../scoring/rules/index.js';
import { enumSetting, integerSetting, numberSetting } from './define.js';

export const SCORE_KIND = enumSetting({
  key: 'scoring.kind',
  flag: 'score',
  arg: SCORE_KINDS.join('|'),
  help: `image score: ${SCORE_KINDS.map((k) => scoringRule(k).help).join(', ')}`,
  members: SCORE_KINDS,
  accepts: isScoreKind,
  default: 'nearest',
});

// rules registered at run time join the list a bad kind is told
Object.defineProperty(SCORE_KIND, 'expected', { get: scoreKindList });

export const K = integerSetting({ key: 'k', flag: 'k', arg: 'K', help: 'neighbours of the knn-mean score', min: 1, max: 1000, default: 3 });

export const B = integerSetting({
  key: 'b',
  flag: 'b',
  arg: 'B',
  help: 'neighbourhood size of the neighbourhood score and of --reweight',
  min: 1,
  max: 1000,
  default: 9,
});

export const SIGMA = numberSetting({
  key: 'sigma',
  flag: 'sigma',
  arg: 'S',
  help: 'Gaussian sigma of the anomaly map, in pixels',
  min: 0,
  max: 64,
  expected: 'a number 0..64',
  default: 4,
});

export const DEFAULT_SCORING: ScoringConfig = { kind: SCORE_KIND.default, k: K.default, b: B.default, squared: false, reweight: false, sigma: SIGMA.default };
