// A verdict threshold from good images alone. Scoring a training image against a bank that holds
// its own patches gives near-zero distances, so each image is scored leave-one-image-out: a patch's
// distance is to its nearest bank entry that came from another image.
import type { FeatureStore } from '../memory/index.js';
import type { FittedBank } from './patchcore.js';

/** At most this many training images are scored (evenly spaced): the threshold needs a sample, not all;
 * each costs one k = 32 search of its 784 patches (16 images: ~0.5 s of a 60-image fit). */
const MAX_IMAGES = 16;
/** Neighbours searched per patch to find one from another image. */
const K = 32;

export async function leaveOneOutScores(store: FeatureStore, grids: { gridH: number; gridW: number }[], fb: FittedBank, squared: boolean): Promise<number[]> {
  // start row and image of each store row (rows are appended image by image)
  const offsets: number[] = [];
  const imageOf = new Int32Array(store.count);
  let acc = 0;
  for (const [i, g] of grids.entries()) {
    const n = g.gridH * g.gridW;
    offsets.push(acc);
    imageOf.fill(i, acc, acc + n);
    acc += n;
  }
  const origin = fb.origin!;
  const k = Math.min(K, fb.nn.maxK, fb.bank.size);
  const step = Math.max(1, grids.length / MAX_IMAGES);
  const scores: number[] = [];
  for (let t = 0; t < grids.length; t += step) {
    const img = Math.floor(t);
    const count = grids[img].gridH * grids[img].gridW;
    const rows = store.rows(Int32Array.from({ length: count }, (_, i) => offsets[img] + i));
    // graph distances (no float64 re-computation of all k): ample precision for a threshold
    const { index, dist } = await fb.nn.search(rows, count, k, false);
    let max = 0;
    for (let p = 0; p < count; p++) {
      let d = dist[p * k + k - 1]; // all k from this image: the k-th distance bounds it from below
      for (let j = 0; j < k; j++)
        if (imageOf[origin[index[p * k + j]]] !== img) {
          d = dist[p * k + j];
          break;
        }
      max = Math.max(max, d);
    }
    scores.push(squared ? max * max : max);
  }
  return scores;
}
