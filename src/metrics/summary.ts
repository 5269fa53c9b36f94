import { UserError } from '../util/errors.js';

export interface Summary {
  mean: number;
  /** Sample standard deviation (n − 1); 0 for a single run. */
  std: number;
  runs: number[];
}

/** Mean and sample std of a metric over repeated runs (e.g. seeds). */
export function summarize(runs: number[]): Summary {
  if (runs.length === 0) throw new UserError('metrics: no runs to summarize');
  const mean = runs.reduce((a, b) => a + b, 0) / runs.length;
  const ss = runs.reduce((a, b) => a + (b - mean) ** 2, 0);
  const std = runs.length > 1 ? Math.sqrt(ss / (runs.length - 1)) : 0;
  return { mean, std, runs: [...runs] };
}
