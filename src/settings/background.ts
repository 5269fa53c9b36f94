// Background-anomaly removal (image/background.ts): the mask's clean-up and the filter.
import { enumSetting, integerSetting } from './define.js';

/** Defaults: the paper's best filter (average 11×11); morph 5 closes 1–4 px dust specks. */
export const BG_MORPH = integerSetting({
  key: 'background.morph',
  flag: 'bg-morph',
  arg: 'K',
  help: 'open-then-close size that cleans the background mask; <= 1 turns it off',
  min: 0,
  max: 255,
  default: 5,
});

export const BG_FILTER = enumSetting({
  key: 'background.filter',
  flag: 'bg-filter',
  arg: 'average|median',
  help: 'filter applied to the background pixels only',
  members: ['average', 'median'] as const,
  default: 'average',
});

/** The median filter also needs an odd size (image/background.ts). */
export const BG_SIZE = integerSetting({
  key: 'background.size',
  flag: 'bg-size',
  arg: 'K',
  help: 'filter window (the median filter needs an odd size)',
  min: 1,
  max: 255,
  default: 11,
});
