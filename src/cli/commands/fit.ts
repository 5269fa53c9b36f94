import { MODEL_FLAGS, coresetFlag, parse, scoringFlags, seedFlag, str, device, targetFprFlag, calibrationImagesFlag } from '../args.js';
import { trainImages } from '../../data/dataset.js';
import { PatchCore } from '../../model/patchcore.js';
import { DEFAULT_TARGET_FPR } from '../../model/config.js';
import { makeProgress } from '../progress.js';
import { backboneFromFlags, extractorFlags, helpRequested } from './common.js';

export const FIT_HELP = `patchcore fit --data DIR --out MODEL_DIR [options]
  --data DIR          MVTec layout (train/good/*) or a folder of good images
  --out DIR           model directory to write (model.json + bank)
  --preset NAME       the defaults below: v2 (default: inception_v3 int8, 320, no crop) or v1 (the first
                      default: 256 / crop 224, fp32; also the default with another --backbone)
  --backbone ID       inception_v3 (default, offline), mobilenet_v2, wide_resnet50_2, resnet18, or FILE.onnx
  --coreset R         coreset ratio in (0,1] (default 0.1; the paper's 1% is 0.01)
  --seed N            coreset seed (default 0)
  --score KIND        nearest | knn-mean (--k) | neighbourhood (--b, default 9)
  --squared           report squared distances (official faiss parity)
  --reweight          PatchCore eq. 7 image-score reweighting (b = --b)
  --resize N --crop N|none   preprocessing (default 320 / none: the whole image)
  --dim N             reduce patch features to N dims by adaptive average pooling (default: keep all)
  --background [--bg-range LO:HI|auto --bg-morph K --bg-filter average|median --bg-size K]
  --precision fp32|int8   int8 (preset v2): backbone quantized after calibration on 8 training images
                      (faster on CPUs with VNNI; see docs/RESULTS.md for its accuracy)
  --target-fpr A      false-alarm rate the saved threshold aims at on good parts (default ${DEFAULT_TARGET_FPR}):
                      the conformal quantile of leave-one-image-out training scores; see README
  --calibration-images N   training images scored for it (default 40, or 2/A if more; 0 = all):
                      more gives a steadier threshold and a slower fit
  --device cpu|cuda   --quiet
`;

export async function fitCommand(argv: string[]): Promise<number> {
  const { values: v } = parse(argv, { ...MODEL_FLAGS, data: { type: 'string' }, out: { type: 'string' } });
  if (helpRequested(v, FIT_HELP)) return 0;
  const data = str(v, 'data');
  const out = str(v, 'out');
  const opts = {
    ...extractorFlags(v),
    ratio: coresetFlag(v),
    seed: seedFlag(v),
    scoring: scoringFlags(v),
    targetFpr: targetFprFlag(v),
    calibrationImages: calibrationImagesFlag(v),
    device: device(v),
    progress: makeProgress(v.quiet === true),
  };
  const files = await trainImages(data);
  const backbone = await backboneFromFlags(v);
  const t0 = Date.now();
  const model = await PatchCore.fit(files, backbone, opts);
  await model.save(out);
  const c = model.config;
  const t = c.thresholdInfo;
  process.stdout.write(
    `fitted ${files.length} images in ${((Date.now() - t0) / 1000).toFixed(1)} s: bank ${c.bank.size} x ${c.bank.dim} ` +
      `(${c.coreset.trainPatches} patches, coreset ${c.coreset.ratio}), threshold ${c.threshold.toFixed(4)} ` +
      `(false alarms on good parts about ${t.promisedFpr}, from ${t.n} training images left out one at a time) -> ${out} [model ${model.modelId}]\n`,
  );
  return 0;
}
