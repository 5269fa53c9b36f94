// Defect regions: the anomaly map on the original image, thresholded at the model's pixel
// threshold, split into 8-connected blobs. Blobs under `minArea` pixels (dust specks) are dropped.
import type { Region, ScoreMap } from '../types.js';
import { labelRegions } from '../metrics/regions.js';

export function defectMask(map: ScoreMap, threshold: number): Uint8Array {
  const mask = new Uint8Array(map.width * map.height);
  for (let i = 0; i < mask.length; i++) mask[i] = map.data[i] > threshold ? 1 : 0;
  return mask;
}

/** Regions of `mask` with at least `minArea` pixels, largest first; `mask` is cleared where smaller ones were. */
export function defectRegions(mask: Uint8Array, width: number, height: number, minArea = 1): Region[] {
  const { labels, count, sizes } = labelRegions(mask, width, height);
  const box = Array.from({ length: count + 1 }, () => ({ x0: width, y0: height, x1: -1, y1: -1 }));
  for (let y = 0, i = 0; y < height; y++)
    for (let x = 0; x < width; x++, i++) {
      const id = labels[i];
      if (id === 0) continue;
      if (sizes[id] < minArea) {
        mask[i] = 0;
        continue;
      }
      const b = box[id];
      if (x < b.x0) b.x0 = x;
      if (x > b.x1) b.x1 = x;
      if (y < b.y0) b.y0 = y;
      if (y > b.y1) b.y1 = y;
    }
  const out: Region[] = [];
  for (let id = 1; id <= count; id++) {
    if (sizes[id] < minArea) continue;
    const b = box[id];
    out.push({ area: sizes[id], box: { x: b.x0, y: b.y0, width: b.x1 - b.x0 + 1, height: b.y1 - b.y0 + 1 } });
  }
  return out.sort((a, b) => b.area - a.area);
}

/** The defect mask and regions of one prediction, on the original image. */
export function regionsOf(mapOriginal: ScoreMap, pixelThreshold: number, minArea = 1): { mask: Uint8Array; regions: Region[] } {
  const mask = defectMask(mapOriginal, pixelThreshold);
  return { mask, regions: defectRegions(mask, mapOriginal.width, mapOriginal.height, minArea) };
}
