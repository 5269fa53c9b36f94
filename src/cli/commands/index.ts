import { FIT, fitCommand } from './fit.js';
import { PREDICT, predictCommand } from './predict.js';
import { EVAL, evalCommand } from './eval.js';
import { DEMO, demoCommand } from './demo.js';
import { BACKBONE, backboneCommand } from './backbone.js';
import { PREPROCESS, preprocessCommand } from './preprocess.js';
import { SWEEP, sweepCommand } from './sweep.js';
import { EXPORT, exportCommand } from './export.js';
import { SERVE, serveCommand } from './serve.js';
import type { CommandSpec, Options } from '../options.js';
import type { Command } from './common.js';
import { TOOL } from '../../util/version.js';
import { CALIBRATE, calibrateCommand } from './calibrate.js';
import { WEB, webCommand } from './web.js';

export type { Command } from './common.js';

export const COMMANDS: Record<string, Command> = {
  fit: fitCommand,
  predict: predictCommand,
  eval: evalCommand,
  demo: demoCommand,
  backbone: backboneCommand,
  preprocess: preprocessCommand,
  sweep: sweepCommand,
  export: exportCommand,
  serve: serveCommand,
  web: webCommand,
  calibrate: calibrateCommand,
};

/** Every command's option table, in README order: `npm run docs:options` writes their tables. */
export const SPECS = [FIT, PREDICT, CALIBRATE, EVAL, SWEEP, PREPROCESS, SERVE, EXPORT, WEB, DEMO, BACKBONE] as unknown as CommandSpec<Options>[];

export function usage(): string {
  return `patchcore — PatchCore anomaly detection (${TOOL.name} ${TOOL.version})

Commands:
  fit --data DIR --out MODEL_DIR [options]   fit a model on good images
  predict --model MODEL_DIR INPUT... [--csv F] [--out DIR] [--masks DIR]   files, folders, globs
  calibrate --model MODEL_DIR --data DIR [--min-recall R]   threshold from labelled images
  eval --data DIR [--runs N] [--json] [--out DIR]
  demo [--out DIR]                           synthetic end-to-end demo (npm start)
  backbone list | fetch ARCH [--weights F]   backbones and their weights
  preprocess IMG --out FIG.png [--bg-*]      background-removal 4-panel figure
  sweep --data DIR --out DIR [--filters ..]  the report's filter-size experiment (Fig. 12/14)
  serve --model MODEL_DIR [--port N] [--token T]   HTTP inspection station (web page + /v1 API)
  export --model MODEL_DIR --out model.onnx [--fp16] [--with-preprocess]
                                             one ONNX graph for Triton / any ONNX Runtime
  web --out DIR [--backbone ID]              the browser studio: a static site that fits and inspects in the tab

Run 'patchcore COMMAND --help' for the options of a command.
`;
}
