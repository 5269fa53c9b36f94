import { fitCommand } from './fit.js';
import { predictCommand } from './predict.js';
import { evalCommand } from './eval.js';
import { demoCommand } from './demo.js';
import { backboneCommand } from './backbone.js';
import { preprocessCommand } from './preprocess.js';
import { sweepCommand } from './sweep.js';
import { exportCommand } from './export.js';
import { serveCommand } from './serve.js';
import { calibrateCommand } from './calibrate.js';

export type Command = (argv: string[]) => Promise<number>;

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
  calibrate: calibrateCommand,
};

export function usage(): string {
  return `patchcore — PatchCore anomaly detection (patchcore-ts 0.1.0)

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

Run 'patchcore COMMAND --help' for the options of a command.
`;
}
