// Every runnable bench script, by purpose: speed (timings and memory), study (accuracy and
// calibration), data (makes a data set for the others). `npm run bench -- --list` prints it; the
// runner runs any entry by name. test/bench-catalog.test.ts checks it against the files on disk.

export type BenchKind = 'speed' | 'study' | 'data';

export interface BenchEntry {
  name: string;
  kind: BenchKind;
  summary: string;
  /** Part of the plain `npm run bench` suite: needs no data set beyond the shared ones, no model and no server. */
  suite?: true;
}

/** The folder under bench/ that holds each kind's scripts. */
export const FOLDER: Record<BenchKind, string> = { speed: 'speed', study: 'studies', data: 'data' };

export const BENCHES: readonly BenchEntry[] = [
  { name: 'side-by-side', kind: 'speed', summary: 'fit and predict against the PyTorch reference, same images, runs alternated', suite: true },
  { name: 'coreset', kind: 'speed', summary: 'plain vs fast greedy coreset selection; --store a whole memory stage', suite: true },
  { name: 'scoring', kind: 'speed', summary: 'exact nearest-neighbour search and the anomaly map', suite: true },
  { name: 'metrics-speed', kind: 'speed', summary: 'pixel metrics against the streamed histogram metrics', suite: true },
  { name: 'backbones', kind: 'speed', summary: 'backbone latency (batch 1 and 8) and ONNX size', suite: true },
  { name: 'int8', kind: 'speed', summary: 'int8 vs fp32 backbones: run time and feature agreement', suite: true },
  { name: 'browser', kind: 'speed', summary: 'fit and predict in headless Chromium against Node', suite: true },
  { name: 'cover-radius', kind: 'speed', summary: 'what recording the coverage radius adds to fit' },
  { name: 'coverage', kind: 'speed', summary: 'exact vs composable coreset: time and coverage radius on real features' },
  { name: 'feedback-swap', kind: 'speed', summary: 'POST /v1/update under load: predicts during the swap, wall time, what the update changed' },
  { name: 'fit-scale', kind: 'speed', summary: "fit's memory stage at scale: time and peak RSS per N" },
  { name: 'fit-stages', kind: 'speed', summary: 'where fit time goes, per stage' },
  { name: 'int8-pools', kind: 'speed', summary: "the int8 graph's unfused AveragePools: equal features, time" },
  { name: 'load', kind: 'speed', summary: 'loopback load test of a running `patchcore serve`' },
  { name: 'mqtt-delivery', kind: 'speed', summary: 'exactly-once MQTT delivery (QoS 2, store in the record) against QoS 1, side by side' },
  { name: 'predict-cost', kind: 'speed', summary: "a saved model's per-image predict cost by stage, beside what the cores allow" },
  { name: 'predict-stages', kind: 'speed', summary: 'per-stage timings of predict, one image at a time' },
  { name: 'preset-stages', kind: 'speed', summary: "where a preset's fit and predict time goes" },
  { name: 'search-bound', kind: 'speed', summary: "the exact search's lower-bound pre-filter against the plain ranking" },
  { name: 'serve-load', kind: 'speed', summary: 'load and faults on `serve --models`: throughput, p50/p99, wrong answers' },
  { name: 'watch-throughput', kind: 'speed', summary: 'watched folder to MQTT: throughput and latency per part' },
  { name: 'accuracy', kind: 'study', summary: 'the eval protocol over a grid of settings on screw and tire (resumable)' },
  { name: 'calibration-check', kind: 'study', summary: "does fit's threshold keep its false-alarm rate on unseen goods (K folds)" },
  { name: 'coreset-quality', kind: 'study', summary: 'exact greedy against composable coresets at the default preset' },
  { name: 'foreground', kind: 'study', summary: '--foreground modes side by side, paired per run' },
  { name: 'foreground-auto', kind: 'study', summary: 'what --foreground auto decides per set, from the training features alone' },
  { name: 'grid', kind: 'study', summary: "the default's grid: extraction × coreset variants, paired comparisons" },
  { name: 'heldout', kind: 'study', summary: 'image AUROC with held-out training goods added (K-fold)' },
  { name: 'line-loop', kind: 'study', summary: 'the line simulated: false alarms marked good and added with update' },
  { name: 'paired', kind: 'study', summary: 'settings compared on the same test images (paired bootstrap)' },
  { name: 'suspects', kind: 'study', summary: 'suspect training images: planted defects found vs clean images flagged' },
  { name: 'update-rules', kind: 'study', summary: 'update rules (radius × threshold) on the simplest case and the line replay' },
  { name: 'update-vs-refit', kind: 'study', summary: 'fit on 90 % + update with 10 % against a refit on all: scores, coverage, time' },
  { name: 'repeated-set', kind: 'data', summary: 'a large MVTec-layout set made of a small one (eval memory at size)' },
  { name: 'texture-set', kind: 'data', summary: 'a generated texture-like training set (no background to prune)' },
  { name: 'texture-tiles', kind: 'data', summary: 'texture sets tiled from the shared sets, real defects included' },
];

/** The compiled script of an entry, relative to dist/bench. */
export function scriptOf(entry: BenchEntry): string {
  return `${FOLDER[entry.kind]}/${entry.name}.js`;
}
