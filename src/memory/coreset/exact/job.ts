// What one run of the exact greedy is built from: each thread's part takes it, and the second
// thread receives it as its worker data.
import type { Matrix } from '../../matrix.js';
import type { Geometry } from './principal-axes.js';

export interface ExactJob {
  rows: Matrix;
  count: number;
  /** The starting points (δ_i starts as the mean distance to them). */
  starts: Int32Array;
  geo: Geometry;
}
