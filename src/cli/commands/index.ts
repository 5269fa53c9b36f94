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
import { UPDATE, updateCommand } from './update.js';
import { PRUNE, pruneCommand } from './prune.js';

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
  update: updateCommand,
  prune: pruneCommand,
};

/** Every command's option table, in README order: `npm run docs:options` writes their tables. */
export const SPECS = [FIT, PREDICT, CALIBRATE, UPDATE, PRUNE, EVAL, SWEEP, PREPROCESS, SERVE, EXPORT, WEB, DEMO, BACKBONE] as unknown as CommandSpec<Options>[];

/** The command list, from the same tables as each command's --help: name, usage, first line of its description. */
export function usage(): string {
  const lines = SPECS.map((s) => `  ${s.name} ${s.usage}\n      ${s.about.split('\n')[0]}`);
  return `patchcore — PatchCore anomaly detection (${TOOL.name} ${TOOL.version})\n\nCommands:\n${lines.join('\n')}\n\nRun 'patchcore COMMAND --help' for the options of a command.\n`;
}
