// Pieces several commands share: running a command from its option table, the backbone and the
// extractor setup from checked flag values.
import { existsSync } from 'node:fs';
import { resizeChangeNote, type ModelConfig } from '../../model/config.js';
import { resolveBackbone } from '../../backbone/index.js';
import { resolveFitOptions } from '../../settings/presets.js';
import { invalid, UserError } from '../../util/errors.js';
import type { Backbone } from '../../backbone/backbone.js';
import { type BACKBONE_OPTIONS, type MODEL_OPTIONS, backgroundFlags } from '../args.js';
import { type COMMON, helpText, inFlags, parseCommand, type CommandSpec, type Options, type Values } from '../options.js';

export type Command = (argv: string[]) => Promise<number>;

/**
 * A command from its table and body: `--help` prints the table's help; every flag is parsed and
 * checked before `body` runs; a library message about an option is told with its flag.
 */
export function runCommand<O extends Options>(spec: CommandSpec<O>, body: (v: Values<O & typeof COMMON>, positionals: string[]) => Promise<number>): Command {
  return async (argv) => {
    const { values, positionals } = parseCommand(spec, argv);
    if (values.help) {
      process.stdout.write(helpText(spec));
      return 0;
    }
    try {
      return await body(values, positionals);
    } catch (e) {
      throw inFlags(e, spec.options);
    }
  };
}

export async function backboneFromFlags(v: Values<typeof BACKBONE_OPTIONS>): Promise<Backbone> {
  return resolveBackbone({
    id: resolveFitOptions(v.preset, { backbone: v.backbone }).backbone,
    device: v.device,
    weights: v.weights,
    layers: v.layers,
    mean: v.mean,
    std: v.std,
    inputSize: v['input-size'],
  });
}

/** The extractor setup of fit, eval and sweep (createExtractor adds the backbone's normalisation). */
export function extractorFlags(v: Values<Omit<typeof MODEL_OPTIONS, 'score'>> & { quiet: boolean }) {
  if (v.backbone !== undefined && /\.onnx$/i.test(v.backbone)) {
    // an .onnx backbone's own checks run when it loads, after the data: the cheap ones come first
    if (!existsSync(v.backbone)) throw new UserError(`--backbone ${v.backbone}: no such file`);
    if (v.layers === undefined) throw invalid('--layers', 'two tensor names of the .onnx backbone, shallow then deep', v.layers);
  }
  // the flags given override the preset's values (settings/presets.ts)
  const s = resolveFitOptions(v.preset, {
    backbone: v.backbone,
    preprocess: { resize: v.resize, crop: v.crop },
    featureDim: v.dim,
    precision: v.precision,
    background: backgroundFlags(v),
    foreground: v.foreground,
  });
  return {
    preprocess: s.preprocess,
    background: s.background,
    featureDim: s.featureDim,
    foreground: s.foreground,
    precision: s.precision,
    batchSize: v.batch,
    warn: warn(v.quiet),
  };
}

/** Say once, on stderr, when a model predates the current resize (model/config.ts). */
export function warnIfOldResize(config: Pick<ModelConfig, 'tool'>, quiet: boolean): void {
  const note = resizeChangeNote(config);
  if (note) warn(quiet)(note);
}

export function warn(quiet: boolean): (msg: string) => void {
  return (msg) => {
    if (!quiet) process.stderr.write(`${msg}\n`);
  };
}
