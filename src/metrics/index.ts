// Public API of the metrics stage.
export { type MetricValue, defined, undefinedMetric, formatMetric } from './value.js';
export { type F1Max, type RocCurve, auroc, rocCurve, f1Max } from './image.js';
export { type PixelMetrics, pixelMetrics, pixelAuroc, pixelAurocAnomalous, aupro, pixelF1Max } from './pixel.js';
export { PixelHistogram, histogramMetrics } from './pixel-histogram.js';
export { type Regions, labelRegions } from './regions.js';
export { type Summary, summarize } from './summary.js';
