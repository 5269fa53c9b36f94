// Settings named on a bench's command line: a preset, or one written out.
import type { Precision } from '../../src/backbone/int8.js';
import { PRESETS, resolveFitOptions, type Preset } from '../../src/settings/presets.js';
import { loadBackbone } from '../../src/backbone/index.js';
import { createExtractor, type Extractor } from '../../src/model/extract.js';

/**
 * A preset name, or backbone/resize/crop/precision[/dim[/ratio]], e.g. inception_v3/384/none/int8/0/0.01:
 * written out, what is left off is v1's (dim 0, coreset 10 %), and each value is checked as fit checks it.
 */
export function presetNamed(name: string): Preset {
  if (PRESETS[name]) return PRESETS[name];
  const [bb, resize, crop, precision, dim, ratio] = name.split('/');
  const s = resolveFitOptions('v1', {
    backbone: bb,
    preprocess: { resize: Number(resize), crop: crop === 'none' ? 'none' : Number(crop) },
    precision: precision as Precision,
    featureDim: dim === undefined ? undefined : Number(dim),
    ratio: ratio === undefined ? undefined : Number(ratio),
  });
  return { backbone: s.backbone, preprocess: s.preprocess, featureDim: s.featureDim, precision: s.precision, ratio: s.ratio, description: name };
}

/** The extractor a bench fits with for a preset's extraction (no background removal), calibrated on `files` where int8. */
export async function extractorFor(p: Preset, files: string[]): Promise<Extractor> {
  return createExtractor(files, await loadBackbone(p.backbone), {
    preprocess: p.preprocess,
    background: null,
    featureDim: p.featureDim,
    precision: p.precision,
  });
}
