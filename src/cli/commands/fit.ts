import { trainImages } from '../../data/dataset.js';
import { PatchCore } from '../../model/patchcore.js';
import { checkOutputDir } from '../../util/atomic.js';
import { MODEL_OPTIONS, coresetMethodFlag, coresetRatio, scoringFlags } from '../args.js';
import { flag, number, required, type CommandSpec } from '../options.js';
import { DEFAULT_SUSPECT_ALPHA, describeSuspects } from '../../model/suspects.js';
import { makeProgress, timeStages } from '../progress.js';
import { backboneFromFlags, extractorFlags, runCommand } from './common.js';

const FIT_OPTIONS = {
  data: required('DIR', 'MVTec layout (train/good/*) or a folder of good images', 'a folder of good images'),
  out: required('DIR', 'model directory to write (model.json + bank)', 'a model directory to write'),
  ...MODEL_OPTIONS,
  'suspect-alpha': number(
    'A',
    'training images whose leave-one-out score lies above the logistic tail bound at A are listed as suspects (printed, and in model.json)',
    'a number in (0, 0.5)',
    DEFAULT_SUSPECT_ALPHA,
    (x) => x > 0 && x < 0.5,
    { key: 'suspectAlpha' },
  ),
  'exclude-suspects': flag('score every training image, then fit again without the suspects (about twice the time)', { key: 'excludeSuspects' }),
} as const;

export const FIT: CommandSpec<typeof FIT_OPTIONS> = {
  name: 'fit',
  usage: '--data DIR --out MODEL_DIR [options]',
  about: 'Fits PatchCore on good images: features, coreset memory bank, and a verdict threshold from\nleave-one-image-out training scores.',
  options: FIT_OPTIONS,
};

export const fitCommand = runCommand(FIT, async (v) => {
  const stages = timeStages(makeProgress(v.quiet));
  const opts = {
    ...extractorFlags(v),
    ratio: coresetRatio(v),
    coresetMethod: coresetMethodFlag(v),
    seed: v.seed,
    scoring: scoringFlags(v),
    targetFpr: v['target-fpr'],
    calibrationImages: v['calibration-images'],
    device: v.device,
    progress: stages.progress,
    suspectAlpha: v['suspect-alpha'],
    excludeSuspects: v['exclude-suspects'],
  };
  await checkOutputDir('--out', v.out);
  const files = await trainImages(v.data);
  const backbone = await backboneFromFlags(v);
  const t0 = Date.now();
  const model = await PatchCore.fit(files, backbone, opts);
  await model.save(v.out);
  const c = model.config;
  const t = c.thresholdInfo;
  process.stdout.write(
    `fitted ${files.length} images in ${((Date.now() - t0) / 1000).toFixed(1)} s: bank ${c.bank.size} x ${c.bank.dim} ` +
      `(${c.coreset.trainPatches} patches, coreset ${c.coreset.ratio}, ${c.coreset.method}), threshold ${c.threshold.toFixed(4)} ` +
      `(false alarms on good parts about ${+(t.promisedFpr ?? 0).toPrecision(2)}, from ${t.n} training images left out one at a time) -> ${v.out} [model ${model.modelId}]\n` +
      `stages: ${stages.summary()}\n` +
      (c.foreground ? `foreground (--foreground ${c.foreground.requested}): ${c.foreground.reason}\n` : '') +
      (c.suspects ? `${describeSuspects(c.suspects)}\n` : ''),
  );
  return 0;
});
