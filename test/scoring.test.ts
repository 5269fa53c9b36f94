import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MemoryBank, ScoringConfig } from '../src/types.js';
import { NearestNeighbours, buildNeighbourTable } from '../src/scoring/nn.js';
import { scorePatches, imageScore, bankView } from '../src/scoring/scores.js';
import { UserError } from '../src/util/errors.js';

const base: ScoringConfig = { kind: 'nearest', k: 1, b: 9, squared: false, reweight: false, sigma: 4 };
const cfg = (over: Partial<ScoringConfig>): ScoringConfig => ({ ...base, ...over });

/** A 2-D bank with its N_b table and a search index, as the fit stage would leave it. */
async function fitted(points: [number, number][], b: number): Promise<{ bank: MemoryBank; nn: NearestNeighbours }> {
  const bank: MemoryBank = { dim: 2, size: points.length, data: Float32Array.from(points.flat()) };
  const nn = await NearestNeighbours.create(bank, { threads: 1 });
  bank.neighbours = await buildNeighbourTable(bank, b, nn);
  bank.b = b;
  return { bank, nn };
}

const feats = (points: [number, number][]) => Float32Array.from(points.flat());
const close = (a: number, b: number, tol = 1e-5) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('report Fig. 4: a patch next to an isolated bank point scores high only under "neighbourhood"', async () => {
  // Dense 5×5 cluster of normal points (spacing 0.1) plus one isolated pre-anomaly point B at (10, 0).
  const cluster: [number, number][] = [];
  for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) cluster.push([i * 0.1, j * 0.1]);
  const { bank, nn } = await fitted([...cluster, [10, 0]], 9);
  const patches = feats([
    [10.2, 0],
    [0.25, 0.25],
  ]); // next to B; inside the cluster
  const near = await scorePatches(patches, 1, 2, bankView(bank, nn), cfg({ kind: 'nearest' }));
  const nb = await scorePatches(patches, 1, 2, bankView(bank, nn), cfg({ kind: 'neighbourhood', b: 9 }));

  assert.equal(near.nearest[0], 25); // m* = B
  close(near.scores[0], 0.2);
  assert.ok(nb.scores[0] > 8, `neighbourhood score next to B: ${nb.scores[0]}`);
  assert.ok(nb.scores[0] > 30 * near.scores[0]);
  // Inside the cluster both scores stay small and close together.
  assert.ok(near.scores[1] < 0.1 && Math.abs(nb.scores[1] - near.scores[1]) < 0.15, `${near.scores[1]} / ${nb.scores[1]}`);
  // nearest/nearestDist are the same whatever the score kind.
  assert.deepEqual(nb.nearest, near.nearest);
  assert.deepEqual(nb.nearestDist, near.nearestDist);
});

// A line bank x = 0, 1, 3, 7 (y = 0): distances are easy by hand.
const line: [number, number][] = [
  [0, 0],
  [1, 0],
  [3, 0],
  [7, 0],
];
const patches = feats([
  [1.2, 0],
  [6.5, 0],
]); // nearest: x=1 at 0.2; x=7 at 0.5

test('neighbour table of the line bank', async () => {
  const { bank } = await fitted(line, 3);
  assert.deepEqual(Array.from(bank.neighbours!), [0, 1, 2, 1, 0, 2, 2, 1, 0, 3, 2, 1]);
});

test('knn-mean and neighbourhood scores against hand computation, d and d²', async () => {
  const { bank, nn } = await fitted(line, 3);
  // Patch x=1.2: the 3 nearest are at 0.2, 1.2, 1.8.
  const knn = await scorePatches(patches, 1, 2, bankView(bank, nn), cfg({ kind: 'knn-mean', k: 3 }));
  close(knn.scores[0], (0.2 + 1.2 + 1.8) / 3);
  const knn2 = await scorePatches(patches, 1, 2, bankView(bank, nn), cfg({ kind: 'knn-mean', k: 3, squared: true }));
  close(knn2.scores[0], (0.04 + 1.44 + 3.24) / 3);
  close(knn2.nearestDist[0], 0.2); // true distance, never squared
  close(knn2.nearestDist[1], 0.5);

  // Patch x=6.5: m* = x7, N_2(x7) = {x7, x3} -> distances 0.5, 3.5.
  const nb = await scorePatches(patches, 1, 2, bankView(bank, nn), cfg({ kind: 'neighbourhood', b: 2 }));
  close(nb.scores[1], 2.0);
  const nb2 = await scorePatches(patches, 1, 2, bankView(bank, nn), cfg({ kind: 'neighbourhood', b: 2, squared: true }));
  close(nb2.scores[1], (0.25 + 12.25) / 2);
  const near2 = await scorePatches(patches, 1, 2, bankView(bank, nn), cfg({ squared: true }));
  close(near2.scores[1], 0.25);
});

test('image score: max patch score, and PatchCore eq. 7 against hand computation', async () => {
  const { bank, nn } = await fitted(line, 3);
  const ps = await scorePatches(patches, 1, 2, bankView(bank, nn), base);
  close(imageScore(ps, patches, bankView(bank, nn), base), 0.5);
  // p* = x6.5, s* = 0.5, N_3(x7) = {x7, x3, x1}: d = 0.5, 3.5, 5.5.
  // w = 1 − e^0.5 / (e^0.5 + e^3.5 + e^5.5) = 0.99410025
  close(imageScore(ps, patches, bankView(bank, nn), cfg({ reweight: true, b: 3 })), 0.4970501247990486);
  // Squared: s* becomes 0.25, the weight still uses true distances.
  const ps2 = await scorePatches(patches, 1, 2, bankView(bank, nn), cfg({ squared: true }));
  close(imageScore(ps2, patches, bankView(bank, nn), cfg({ squared: true, reweight: true, b: 3 })), 0.2485250623995243);
});

test('eq. 7 stays finite for distances of 1e4 (exp of raw distances would overflow)', async () => {
  const { bank, nn } = await fitted(
    line.map(([x]) => [x * 1e4, 0] as [number, number]),
    3,
  );
  const far = feats([
    [1.2e4, 0],
    [6.5e4, 0],
  ]);
  const ps = await scorePatches(far, 1, 2, bankView(bank, nn), base);
  const s = imageScore(ps, far, bankView(bank, nn), cfg({ reweight: true, b: 3 }));
  assert.ok(Number.isFinite(s), `score ${s}`);
  close(s, 5000, 1e-2); // w = 1 − e^(−50000)/… ≈ 1
});

test('neighbourhood scoring without a table, or with b beyond it, is a UserError', async () => {
  const { bank, nn } = await fitted(line, 2);
  await assert.rejects(scorePatches(patches, 1, 2, bankView(bank, nn), cfg({ kind: 'neighbourhood', b: 3 })), UserError);
  const ps = await scorePatches(patches, 1, 2, bankView(bank, nn), base);
  const bare: MemoryBank = { dim: 2, size: 4, data: bank.data };
  assert.throws(() => imageScore(ps, patches, bankView(bare, nn), cfg({ reweight: true, b: 2 })), UserError);
  await assert.rejects(scorePatches(patches, 1, 2, bankView(bank, nn), cfg({ kind: 'knn-mean', k: 5 })), UserError);
});
