// Settings named on a bench's command line: a preset, or one written out.
import { PRESETS, type Preset } from '../../src/model/config.js';

/** A preset name, or backbone/resize/crop/precision[/dim[/ratio]], e.g. inception_v3/384/none/int8/0/0.01. */
export function presetNamed(name: string): Preset {
  if (PRESETS[name]) return PRESETS[name];
  const [bb, resize, crop, precision, dim, ratio] = name.split('/');
  return { backbone: bb, preprocess: { resize: Number(resize), crop: crop === 'none' ? 'none' : Number(crop) }, featureDim: Number(dim ?? 0), precision: precision as Preset['precision'], ratio: Number(ratio ?? 0.1), description: name };
}
