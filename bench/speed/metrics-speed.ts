// Times pixelMetrics (pooled AUROC, defect-only AUROC, AUPRO, F1) on random maps, and beside it
// the histogram metrics eval streams (PixelHistogram), with their largest difference.
// Usage: npm run bench -- metrics-speed [--count 160] [--size 224]   (or by position: [count] [size])
import { pathToFileURL } from 'node:url';
import { histogramMetrics, PixelHistogram, pixelMetrics, type PixelMetrics } from '../../src/metrics/index.js';
import type { ScoreMap } from '../../src/types.js';
import { Rng } from '../../src/util/rng.js';
import { argAt } from '../lib/args.js';

/** Random maps; every other image gets a few square defects that score higher on average. */
export function randomMaps(count: number, size: number, seed = 1): { maps: ScoreMap[]; masks: Uint8Array[] } {
  const rng = new Rng(seed);
  const maps: ScoreMap[] = [],
    masks: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const mask = new Uint8Array(size * size);
    if (i % 2 === 1) {
      for (let d = 0; d < 3; d++) {
        const x0 = rng.int(size - 20),
          y0 = rng.int(size - 20),
          w = 2 + rng.int(18);
        for (let y = y0; y < y0 + w; y++) mask.fill(255, y * size + x0, y * size + x0 + w);
      }
    }
    const data = new Float32Array(size * size);
    for (let p = 0; p < data.length; p++) data[p] = rng.next() + (mask[p] ? 0.5 : 0);
    maps.push({ width: size, height: size, data });
    masks.push(mask);
  }
  return { maps, masks };
}

export function timePixelMetrics(count: number, size: number): { ms: number; result: PixelMetrics } {
  const { maps, masks } = randomMaps(count, size);
  const t0 = performance.now();
  const result = pixelMetrics(maps, masks);
  return { ms: performance.now() - t0, result };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const count = Number(argAt('count', 0, '160')),
    size = Number(argAt('size', 1, '224'));
  const { ms, result } = timePixelMetrics(count, size);
  const v = (m: { value: number | null }) => (m.value === null ? 'undefined' : m.value.toFixed(4));
  console.log(`${count} maps ${size}×${size} (${((count * size * size) / 1e6).toFixed(1)} M pixels): ${ms.toFixed(0)} ms`);
  console.log(`auroc ${v(result.auroc)}  defect-only ${v(result.aurocAnomalous)}  aupro ${v(result.aupro)}  f1 ${v(result.f1)}`);
  const { maps, masks } = randomMaps(count, size);
  const t0 = performance.now(),
    h = new PixelHistogram();
  maps.forEach((m, i) => h.add(m, masks[i]));
  const streamed = histogramMetrics([h]);
  const diff = Math.max(...(['auroc', 'aurocAnomalous', 'aupro'] as const).map((k) => Math.abs((streamed[k].value ?? NaN) - (result[k].value ?? NaN))));
  console.log(`histogram: ${(performance.now() - t0).toFixed(0)} ms, largest difference from the exact metrics ${diff.toExponential(1)}`);
}
