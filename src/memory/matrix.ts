// The shape rows travel in through the memory stage, so no function takes (data, n, dim) apart.

/** The projected rows: in memory, or the path of the store's spill file of them (read a block at a time). */
export type ProjectedRows = Float32Array | string;

/** `n` rows of `dim` floats, row-major in `data` (a `Matrix<ProjectedRows>` may name a file of them instead). */
export interface Matrix<D extends ProjectedRows = Float32Array> {
  data: D;
  n: number;
  dim: number;
}
