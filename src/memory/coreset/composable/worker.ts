// The second thread of the composable coreset's chunk stage (blocks.ts): takes blocks until none is left.
import { workerData } from 'node:worker_threads';
import { runBlocks, type BlockJob } from './blocks.js';

runBlocks(workerData as BlockJob, 1);
