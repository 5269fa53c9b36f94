import { BACKGROUND_FLAGS, parse, str, backgroundFlags } from '../args.js';
import { loadImage } from '../../image/load.js';
import { backgroundFigure, DEFAULT_BACKGROUND } from '../../image/background.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { UserError } from '../../util/errors.js';
import { helpRequested } from './common.js';

const HELP = `patchcore preprocess IMG --out FIG.png [--bg-range LO:HI|auto --bg-morph K --bg-filter average|median --bg-size K --bg-connected]
  Writes the 4-panel figure of the report's Fig. 10/11: original, background mask, filtered background, composite.
`;

export async function preprocessCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv, { out: { type: 'string' }, ...BACKGROUND_FLAGS }, true);
  if (helpRequested(v, HELP)) return 0;
  if (positionals.length !== 1) throw new UserError('preprocess: give exactly one image');
  const out = str(v, 'out');
  const cfg = backgroundFlags(v) ?? DEFAULT_BACKGROUND;
  const img = await loadImage(positionals[0]);
  await writeFileAtomic(out, await backgroundFigure(img, cfg));
  process.stdout.write(`${out}\n`);
  return 0;
}
