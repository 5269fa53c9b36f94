// Pieces several commands share: loading the backbone and the extractor setup from flags, printing help.
import type { Values } from '../args.js';
import { backgroundFlags, device, isInt, num, optStr, precisionFlag, preprocessFlags, presetFlag, str } from '../args.js';
import { resolveBackbone } from '../../backbone/index.js';
import type { Backbone } from '../../backbone/backbone.js';

export async function backboneFromFlags(v: Values, fallback = presetFlag(v).backbone): Promise<Backbone> {
  return resolveBackbone({
    id: str(v, 'backbone', fallback),
    device: device(v),
    weights: optStr(v, 'weights'),
    layers: optStr(v, 'layers'),
    mean: optStr(v, 'mean'),
    std: optStr(v, 'std'),
    inputSize: optStr(v, 'input-size'),
  });
}

/** The extractor flags of fit, eval and sweep over the --preset defaults (createExtractor adds the backbone's normalisation). */
export function extractorFlags(v: Values) {
  const preset = presetFlag(v);
  return {
    preprocess: preprocessFlags(v, preset.preprocess),
    background: backgroundFlags(v),
    featureDim: num(v, 'dim', preset.featureDim, isInt(0, 100000), 'a non-negative integer'),
    precision: precisionFlag(v, preset.precision),
    batchSize: num(v, 'batch', 8, isInt(1, 256), 'an integer 1..256'),
    warn: warn(v.quiet === true),
  };
}

export function warn(quiet: boolean): (msg: string) => void {
  return (msg) => {
    if (!quiet) process.stderr.write(`${msg}\n`);
  };
}

export function helpRequested(v: Values, text: string): boolean {
  if (v.help) process.stdout.write(text);
  return v.help === true;
}
