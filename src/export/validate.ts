// Export-time checks: the graph against PatchCore.predict, and fp16 against fp32.
import type { RgbImage } from '../types.js';
import type { PatchCore } from '../model/patchcore.js';
import type { OnnxPredictor } from './onnx-predict.js';
import type { Deviation } from './sidecar.js';

/** max |a−b| / max(|b|, 1e-6): relative, elementwise, against the reference b. */
export function relDeviation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`deviation: ${a.length} vs ${b.length} values`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1e-6));
  return worst;
}

/** max |a−b| / max |b|: error relative to the map's peak (elementwise is harsh where b ≈ 0). */
export function peakDeviation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let peak = 1e-6;
  for (let i = 0; i < b.length; i++) peak = Math.max(peak, Math.abs(b[i]));
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst / peak;
}

type Outputs = { score: number; map: ArrayLike<number> };

async function compare(images: RgbImage[], run: (img: RgbImage) => Promise<Outputs>, reference: (img: RgbImage) => Promise<Outputs>): Promise<Deviation> {
  const dev: Deviation = { score: 0, map: 0 };
  for (const img of images) {
    const [a, b] = [await run(img), await reference(img)];
    dev.score = Math.max(dev.score, relDeviation([a.score], [b.score]));
    dev.map = Math.max(dev.map, peakDeviation(a.map, b.map));
  }
  return dev;
}

const outputs = (p: OnnxPredictor) => async (img: RgbImage) => {
  const r = await p.predict(img);
  return { score: r.score, map: r.map.data };
};

/** The exported graph against the TypeScript model on the same images. */
export function graphVsModel(graph: OnnxPredictor, model: PatchCore, images: RgbImage[]): Promise<Deviation> {
  return compare(images, outputs(graph), async (img) => {
    const r = await model.predict(img);
    return { score: r.score, map: r.map.data };
  });
}

/** One graph (e.g. fp16) against another (fp32). */
export function graphVsGraph(graph: OnnxPredictor, reference: OnnxPredictor, images: RgbImage[]): Promise<Deviation> {
  return compare(images, outputs(graph), outputs(reference));
}
