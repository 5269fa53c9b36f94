export { FeatureStore, type FeatureStoreOptions } from './feature-store.js';
export { selectCoreset, selectBank, buildMemoryBank, type CoresetOptions } from './select.js';
export { plainGreedyCoreset, pickStarts, initialDelta } from './coreset.js';
export { greedyCoreset, type GreedyCoresetOptions } from './fast-coreset.js';
export { randomProjection, Projector } from './projection.js';
export { dist2 } from './distance.js';
