// Random weights with a real architecture's names and shapes: for tests and benchmarks, never for detection.
import { Rng } from '../../util/rng.js';
import type { WeightMap } from '../weights/tensors.js';
import { requiredTensors, type ResNetConfig } from './config.js';

export function randomResNetWeights(cfg: ResNetConfig, seed = 1): WeightMap {
  const rng = new Rng(seed);
  const out: WeightMap = new Map();
  for (const [name, shape] of requiredTensors(cfg)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (shape.length === 4) {
      const std = Math.sqrt(2 / (shape[1] * shape[2] * shape[3])); // He init keeps activations O(1)
      for (let i = 0; i < n; i++) data[i] = rng.normal() * std;
    } else if (name.endsWith('.weight') || name.endsWith('running_var')) {
      for (let i = 0; i < n; i++) data[i] = 0.5 + rng.next();
    } else {
      for (let i = 0; i < n; i++) data[i] = 0.2 * (rng.next() - 0.5);
    }
    out.set(name, { dtype: 'F32', shape, data });
  }
  return out;
}
