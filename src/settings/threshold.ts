// The verdict threshold fit derives from leave-one-image-out training scores.
import { integerSetting, numberSetting } from './define.js';

/** One good part in 20 flagged, reachable with 19+ training images. */
export const TARGET_FPR = numberSetting({
  key: 'targetFpr',
  flag: 'target-fpr',
  arg: 'A',
  help: 'false-alarm rate the saved threshold aims at on good parts: the conformal quantile of leave-one-image-out training scores (README: Deciding good or bad)',
  min: 0,
  minOpen: true,
  max: 1,
  maxOpen: true,
  expected: 'a false-alarm rate in (0, 1)',
  default: 0.05,
});

export const DEFAULT_TARGET_FPR = TARGET_FPR.default;

/** Undefined: 40, or 2/targetFpr if more (model/threshold.ts). */
export const CALIBRATION_IMAGES = integerSetting({
  key: 'calibrationImages',
  flag: 'calibration-images',
  arg: 'N',
  help: 'training images scored for that threshold (a seeded random sample; 0 = all): more is steadier and slower',
  min: 0,
  max: 1e6,
  expected: 'a non-negative integer (0 = all)',
  default: undefined,
});
