// Feature extraction: the input size, the crop, the feature width, the backbone's precision, the
// foreground mask. The preset sets resize, crop, dim and precision when they are not given.
import { PRECISIONS } from '../backbone/int8.js';
import { FOREGROUND_MODES } from '../foreground/mask.js';
import { enumSetting, integerSetting } from './define.js';

export const RESIZE = integerSetting({ key: 'resize', flag: 'resize', arg: 'N', help: 'shorter side after resizing', min: 16, max: 4096, default: undefined });

/** An integer within RESIZE's bounds, or `none`. */
export const CROP = integerSetting({
  key: 'crop',
  flag: 'crop',
  arg: 'N|none',
  help: 'center crop; `none` keeps the borders of non-square images',
  min: RESIZE.min,
  max: RESIZE.max,
  expected: `an integer ${RESIZE.min}..${RESIZE.max} or "none"`,
  default: undefined,
});

export const FEATURE_DIM = integerSetting({
  key: 'featureDim',
  flag: 'dim',
  arg: 'N',
  help: "reduce patch features to N dims by adaptive average pooling, as the official code's 1024 (0 keeps all)",
  min: 0,
  max: 100000,
  default: undefined,
});

export const PRECISION = enumSetting({
  key: 'precision',
  flag: 'precision',
  arg: 'fp32|int8',
  help: '`int8`: the backbone is quantized (int8 weights per channel, uint8 activations calibrated on 8 training images) and run by integer kernels; the bank and the NN search stay float32 and exact. Saved models keep the calibration, so predict, serve and export use the same int8 graph',
  members: PRECISIONS,
  default: undefined,
});

export const BATCH = integerSetting({
  key: 'batchSize',
  flag: 'batch',
  arg: 'N',
  help: 'images per backbone batch (default: 8 at 224 px, fewer for larger inputs)',
  min: 1,
  max: 256,
  default: undefined,
});

export const INPUT_SIZE = integerSetting({
  key: 'inputSize',
  flag: 'input-size',
  arg: 'N',
  help: 'FILE.onnx backbone: the side of the probe run that learns the strides',
  min: 16,
  max: 4096,
  default: undefined,
});

export const FOREGROUND = enumSetting({
  key: 'foreground',
  flag: 'foreground',
  arg: 'off|auto|pca|range',
  help: "score only the object: patches outside a foreground mask score zero, in predict and in the threshold. `pca`: the training patches' first principal component, thresholded (Otsu), closed and dilated on the patch grid; `auto`: that mask only when the training images agree on a stable foreground (fit says which and why); `range`: the report's RGB range (the --bg-range, else 150-255 is background) on the patch grid. `export` carries pca (and auto), not range",
  members: FOREGROUND_MODES,
  default: 'off',
});
