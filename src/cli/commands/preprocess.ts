import { loadImage } from '../../image/load.js';
import { backgroundFigure, DEFAULT_BACKGROUND } from '../../image/background.js';
import * as path from 'node:path';
import { checkOutputDir, writeFileAtomic } from '../../util/atomic.js';
import { UserError } from '../../util/errors.js';
import { BACKGROUND_OPTIONS, backgroundFlags } from '../args.js';
import { required, type CommandSpec } from '../options.js';
import { runCommand } from './common.js';

const PREPROCESS_OPTIONS = {
  out: required('FIG.png', 'the figure to write', 'a .png file to write'),
  ...BACKGROUND_OPTIONS,
} as const;

export const PREPROCESS: CommandSpec<typeof PREPROCESS_OPTIONS> = {
  name: 'preprocess',
  usage: 'IMG --out FIG.png [--bg-* options]',
  about: "Writes the 4-panel figure of the report's Fig. 10/11: original, background mask, filtered\nbackground, composite.",
  options: PREPROCESS_OPTIONS,
  positionals: true,
};

export const preprocessCommand = runCommand(PREPROCESS, async (v, positionals) => {
  if (positionals.length !== 1) throw new UserError('preprocess: give exactly one image');
  const cfg = backgroundFlags(v) ?? DEFAULT_BACKGROUND;
  await checkOutputDir('--out', path.dirname(v.out), v.out);
  const img = await loadImage(positionals[0]);
  await writeFileAtomic(v.out, await backgroundFigure(img, cfg));
  process.stdout.write(`${v.out}\n`);
  return 0;
});
