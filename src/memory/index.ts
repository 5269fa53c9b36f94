export { FeatureStore, type FeatureStoreOptions } from './feature-store.js';
export { RecordFile } from './record-file.js';
export { openSpillFiles, removeStaleSpills, SPILL_PREFIX, type SpillFiles } from './spill.js';
export { EXACT_MAX_ROWS, checkRatio, selectCoreset, type CoresetOptions, type CoresetMethod, type CoresetAlgorithm, type CoresetSelection } from './select.js';
export type { Matrix, ProjectedRows } from './matrix.js';
export { randomProjection, Projector } from './projection.js';
export { dist2 } from './distance.js';
