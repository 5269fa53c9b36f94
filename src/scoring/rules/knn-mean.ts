// The mean distance to the k nearest bank rows.
import { defineRule, meanOfNearest } from './rule.js';

export const knnMeanRule = defineRule({
  kind: 'knn-mean',
  help: '`knn-mean` (mean of --k)',
  label: (s) => `knn-mean (k=${s.k})`,
  describe: (s, d) => `the mean ${d} to the patch's ${s.k} nearest memory-bank features`,
  needsNeighbourTable: false,
  leaveOutBound: true,
  neighbours: (s) => s.k,
  // p.k, not s.k: the leave-one-out bound may see fewer allowed rows than k
  patchScore: meanOfNearest,
  graph: (c) => c.mean(c.pow(c.nearest())),
});
