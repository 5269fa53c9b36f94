// The report's eq. 3–4: the mean distance from the patch to the bank rows around its nearest one,
// N_b(m*). It grows where the nearest row is isolated, which a bound on the k nearest distances
// does not follow, so the leave-one-out threshold scores every cell for it.
import { defineRule, pow } from './rule.js';

export const neighbourhoodRule = defineRule({
  kind: 'neighbourhood',
  help: "`neighbourhood` (the report's eq. 3-4, --b)",
  label: (s) => `neighbourhood (b=${s.b})`,
  describe: (s, d) => `the mean ${d} to the ${s.b} memory-bank features around the patch's nearest one (N_b(m*))`,
  needsNeighbourTable: true,
  leaveOutBound: false,
  neighbours: () => 1,
  patchScore(p, s) {
    const nb = p.neighbourhood(p.row(0), s.b);
    let sum = 0;
    for (let j = 0; j < nb.length; j++) sum += pow(p.distanceTo(nb[j]), s);
    return sum / nb.length;
  },
  graph: (c) => c.mean(c.pow(c.neighbourhood!)),
});
