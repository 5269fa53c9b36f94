// Squared Euclidean distance kernels shared by the plain and the exact accelerated coreset.
// Both paths must round identically, so every distance is summed by the same code
// in the same order: four double accumulators over float32 inputs, combined as
// (s0 + s1) + (s2 + s3). Adding non-negative terms with round-to-nearest is
// monotone, so a partial sum is a valid lower bound of the final computed sum.
// They run once per pair of rows, so they take offsets into the arrays as plain arguments
// (as headDist2 in coreset/exact/probe.ts does) rather than an options object.

/** ‖a[ao..] − b[bo..]‖² over `dim` floats. */
export function dist2(a: Float32Array, ao: number, b: Float32Array, bo: number, dim: number): number {
  return dist2Bounded(a, ao, b, bo, dim, Infinity);
}

/**
 * Same sum as `dist2`, but stops early once the partial sum reaches `limit`.
 * Returns either the exact `dist2` value, or a partial sum ≥ limit (then the
 * full sum is ≥ limit as well). Checks every 16 coordinates.
 */
export function dist2Bounded(a: Float32Array, ao: number, b: Float32Array, bo: number, dim: number, limit: number): number {
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0;
  const end4 = dim & ~3;
  let k = 0;
  while (k < end4) {
    const stop = Math.min(k + 16, end4);
    for (; k < stop; k += 4) {
      const d0 = a[ao + k] - b[bo + k];
      const d1 = a[ao + k + 1] - b[bo + k + 1];
      const d2 = a[ao + k + 2] - b[bo + k + 2];
      const d3 = a[ao + k + 3] - b[bo + k + 3];
      s0 += d0 * d0;
      s1 += d1 * d1;
      s2 += d2 * d2;
      s3 += d3 * d3;
    }
    const partial = s0 + s1 + (s2 + s3);
    if (partial >= limit) return partial;
  }
  for (; k < dim; k++) {
    const d = a[ao + k] - b[bo + k];
    s0 += d * d;
  }
  return s0 + s1 + (s2 + s3);
}
