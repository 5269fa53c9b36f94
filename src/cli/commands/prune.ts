import { flag, integer, required, type CommandSpec } from '../options.js';
import { storedId } from '../../model/patchcore.js';
import { pruneVersions } from '../../model/prune.js';
import { runCommand } from './common.js';

const PRUNE_OPTIONS = {
  model: required('MODEL_DIR', 'the model directory whose old versions (MODEL_DIR/versions/, kept by update) are removed', 'a model directory'),
  keep: integer('N', "old versions to keep: the current model's parent, its parent, …", 0, Infinity, 0),
  'dry-run': flag('list what would be removed; remove nothing'),
} as const;

export const PRUNE: CommandSpec<typeof PRUNE_OPTIONS> = {
  name: 'prune',
  usage: '--model MODEL_DIR [--keep N] [--dry-run]',
  about: `Removes the old versions an update kept (MODEL_DIR/versions/model.<id>.json and their bank files),
all but the N nearest ancestors of the current model. The version model.json names, and every bank
a remaining version uses, are never removed. Run it while no update writes into MODEL_DIR.`,
  options: PRUNE_OPTIONS,
};

export const pruneCommand = runCommand(PRUNE, async (v) => {
  const r = await pruneVersions(v.model, v.keep, { dryRun: v['dry-run'], idOf: storedId });
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  const lines = [`model ${v.model}: current ${r.current}; ${r.kept.length} old version(s) kept${r.kept.length ? ` (${r.kept.join(', ')})` : ''}`];
  for (const x of r.removed)
    lines.push(`  ${v['dry-run'] ? 'would remove' : 'removed'} ${x.id}${x.bank ? ` and ${x.bank} (${mb(x.bytes)})` : ' (its bank is still used)'}`);
  for (const f of r.unreadable) lines.push(`  left alone, unreadable: ${f}`);
  const freed = r.removed.reduce((s, x) => s + x.bytes, 0);
  lines.push(`${r.removed.length} version(s) ${v['dry-run'] ? 'would be ' : ''}removed, ${mb(freed)} ${v['dry-run'] ? 'to free' : 'freed'}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
});
