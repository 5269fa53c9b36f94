// The second thread of the composable coreset's chunk stage (composable.ts): takes blocks until none is left.
import { workerData } from 'node:worker_threads';
import { runBlocks, type Block, type ProjectedRows } from './composable.js';

const { z, dim, blocks, seed, out, done } = workerData as {
  z: ProjectedRows; dim: number; blocks: Block[]; seed: number; out: Int32Array; done: Int32Array;
};
runBlocks(z, dim, blocks, seed, out, done, 1);
