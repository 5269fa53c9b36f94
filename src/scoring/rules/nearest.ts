// PatchCore's patch score: the distance to the nearest bank row.
import { defineRule, meanOfNearest } from './rule.js';

export const nearestRule = defineRule({
  kind: 'nearest',
  help: '`nearest` (PatchCore)',
  label: () => 'nearest',
  describe: (_, d) => `the ${d} from the patch feature to its nearest memory-bank feature`,
  needsNeighbourTable: false,
  leaveOutBound: true,
  neighbours: () => 1,
  patchScore: meanOfNearest,
  graph: (c) => c.mean(c.pow(c.nearest())),
});
