// The memory bank's settings: how much of the training patches it keeps, and how they are chosen.
import { enumSetting, integerSetting, numberSetting } from './define.js';

/** Coreset ratio; the preset sets it when not given. */
export const RATIO = numberSetting({
  key: 'ratio',
  flag: 'coreset',
  arg: 'R',
  help: "coreset ratio in (0, 1]; the paper's 1 % is 0.01",
  min: 0,
  minOpen: true,
  max: 1,
  expected: 'a ratio in (0, 1]',
  default: undefined,
});

export const SEED = integerSetting({
  key: 'seed',
  flag: 'seed',
  arg: 'N',
  help: 'coreset seed; the same seed gives the same bank',
  min: 0,
  max: 2 ** 31 - 1,
  expected: 'a non-negative integer',
  default: 0,
});

/** The help needs the exact greedy's row limit (memory/), so the CLI table writes it. */
export const CORESET_METHOD = enumSetting({
  key: 'coresetMethod',
  flag: 'coreset-method',
  arg: 'auto|exact|composable',
  help: 'how the coreset is selected',
  members: ['auto', 'exact', 'composable'] as const,
  default: 'auto',
});
