import * as path from 'node:path';
import { DEVICE, WEIGHTS, split } from '../args.js';
import { flag, required, text, type CommandSpec } from '../options.js';
import { PatchCore, storedId } from '../../model/patchcore.js';
import { versionFile } from '../../model/store.js';
import { expandInputs } from '../../data/inputs.js';
import { checkOutputDir } from '../../util/atomic.js';
import { makeProgress } from '../progress.js';
import { runCommand } from './common.js';

const UPDATE_OPTIONS = {
  model: required('MODEL_DIR', 'the fitted model to add good images to', 'a model directory'),
  add: required('PATHS', 'good images to add: files, folders or quoted globs, comma-separated', 'images to add'),
  out: text('DIR', 'write the new version here instead of into MODEL_DIR'),
  'keep-threshold': flag("grow the bank but keep the threshold (the new images' leave-one-out scores are still stored for a later update)"),
  'dry-run': flag('say how many bank entries each image would add and how far it is from the bank; write nothing'),
  device: DEVICE,
  weights: WEIGHTS,
} as const;

export const UPDATE: CommandSpec<typeof UPDATE_OPTIONS> = {
  name: 'update',
  usage: '--model MODEL_DIR --add PATHS [--out DIR] [--dry-run]',
  about: `Adds good images to a fitted model without refitting: their patches farther from the bank than
the coverage radius recorded at fit become bank entries (the coreset's greedy carried on), and the
threshold is re-derived by the leave-one-image-out rule over the stored sample plus the new images.
Writes a new version (new model_id, parent = the old one) into MODEL_DIR, keeping the old one as
MODEL_DIR/versions/model.<id>.json (copy it over model.json to go back). An image that cannot be read
adds nothing and is listed; the exit status is then 3 (as predict's).`,
  options: UPDATE_OPTIONS,
};

export const updateCommand = runCommand(UPDATE, async (v) => {
  const out = v.out ?? v.model;
  const inPlace = path.resolve(out) === path.resolve(v.model);
  if (!inPlace) await checkOutputDir('--out', out);
  const inputs = await expandInputs(split(v.add, '--add'));
  const model = await PatchCore.open(v.model, { device: v.device, weights: v.weights });
  const t0 = Date.now();
  const r = await model.update(
    inputs.map((i) => i.file),
    { device: v.device, dryRun: v['dry-run'], keepThreshold: v['keep-threshold'], progress: makeProgress(v.quiet), names: inputs.map((i) => i.rel) },
  );
  const lines = [
    `update of model ${model.modelId} by ${inputs.length} image(s); coverage radius ${r.radius.toFixed(4)}${r.radiusEstimated ? ' (estimated: the model predates the recorded radius)' : ''}`,
  ];
  for (const x of r.images)
    lines.push(
      `  ${x.file}: distance to bank ${x.distance.toFixed(4)}, score ${x.score.toFixed(4)}${x.score > model.threshold ? ' (anomalous)' : ''}, ${x.entries} entr${x.entries === 1 ? 'y' : 'ies'}${x.leaveOneOut !== undefined ? `, leave-one-out ${x.leaveOneOut.toFixed(4)}` : ''}`,
    );
  for (const f of r.failed) lines.push(`  ${f.file}: not added: ${f.error}`);
  const size = model.config.bank.size;
  if (!r.model) {
    lines.push(`dry run: would add ${r.added} entries to the bank of ${size}; nothing written`);
  } else {
    const c = r.model.config;
    if (inPlace) await r.model.saveOverParent(out);
    else await r.model.save(out);
    lines.push(
      `bank ${size} -> ${c.bank.size} entries; threshold ${model.threshold.toFixed(4)} -> ${c.threshold.toFixed(4)} (${c.update!.threshold}) ` +
        `in ${((Date.now() - t0) / 1000).toFixed(1)} s -> ${out} [model ${storedId(c)}, parent ${model.modelId}]` +
        (inPlace ? `; the old version is kept as ${versionFile(out, model.modelId)}` : ''),
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return r.failed.length > 0 ? 3 : 0;
});
