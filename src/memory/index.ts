export { FeatureStore, type FeatureStoreOptions } from './feature-store.js';
export { RecordFile } from './record-file.js';
export { openSpillFiles, removeStaleSpills, SPILL_PREFIX, type SpillFiles } from './spill.js';
export { EXACT_MAX_ROWS, checkRatio, selectCoreset, chooseCoreset, selectBank, buildMemoryBank, type CoresetOptions, type CoresetMethod, type CoresetChoice } from './select.js';
export { plainGreedyCoreset, pickStarts, initialDelta } from './coreset/plain.js';
export { greedyCoreset, type GreedyCoresetOptions } from './coreset/fast.js';
export { randomProjection, Projector } from './projection.js';
export { dist2 } from './distance.js';
