// Pieces several commands share: loading the backbone from flags, printing help.
import type { Values } from '../args.js';
import { device, str } from '../args.js';
import { resolveBackbone } from '../../backbone/index.js';
import type { Backbone } from '../../backbone/backbone.js';

export async function backboneFromFlags(v: Values, fallback = 'inception_v3'): Promise<Backbone> {
  return resolveBackbone({
    id: str(v, 'backbone', fallback),
    device: device(v),
    weights: typeof v.weights === 'string' ? v.weights : undefined,
    layers: typeof v.layers === 'string' ? v.layers : undefined,
    mean: typeof v.mean === 'string' ? v.mean : undefined,
    std: typeof v.std === 'string' ? v.std : undefined,
    inputSize: typeof v['input-size'] === 'string' ? v['input-size'] : undefined,
  });
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
