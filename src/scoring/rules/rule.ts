// What a scoring rule is: one patch score, declared once, with everything the rest of the pipeline
// asks of it (search depth, export nodes, words, the leave-one-out shortcut, help). The registry
// (index.ts) lists the rules; predict, the threshold, export, the report and the CLI read it.
// No import of src/types.ts here or in the rules: types.ts derives its kind type from the registry.
import type { GraphBuilder } from '../../onnx/builder.js';

/** The scoring settings a rule's patch score reads (a ScoringConfig is one). */
export interface ScoringParams {
  /** Neighbours of knn-mean. */
  k: number;
  /** Neighbourhood size N_b (the neighbourhood score, eq. 7). */
  b: number;
  /** Report d² instead of d. */
  squared: boolean;
}

/** One patch and its nearest bank rows, as a rule's patch score reads them. */
export interface PatchNeighbours {
  /** Rows `dist` and `row` hold: the rule's `neighbours`, or fewer where fewer rows are allowed. */
  readonly k: number;
  /** True distance to the j-th nearest bank row, ascending in j. */
  dist(j: number): number;
  /** Index of the j-th nearest bank row (j = 0: m*). */
  row(j: number): number;
  /** True distance from the patch to bank row m. */
  distanceTo(m: number): number;
  /** N_b(m): m first, then its b − 1 nearest bank rows (for rules that declare `needsNeighbourTable`). */
  neighbourhood(m: number, b: number): ArrayLike<number>;
}

/** The graph pieces a rule's export nodes are built from (export/score-graph.ts makes them). */
export interface ScoreGraphInputs {
  g: GraphBuilder;
  /** [n,k] true distances to each patch's k = `neighbours` nearest bank rows, ascending (built on first call). */
  nearest(): string;
  /** [n,b] true distances to N_b(m*); null unless the rule (or eq. 7) needs the neighbour table. */
  neighbourhood: string | null;
  /** d or d², elementwise, as `squared` says. */
  pow(x: string): string;
  /** Mean over axis 1: [n,c] → [n]. */
  mean(x: string): string;
}

export interface ScoringRule<K extends string = string> {
  readonly kind: K;
  /** For the CLI's --score table: the kind in backticks and what it is. */
  readonly help: string;
  /** The kind with its settings, for the eval report: `knn-mean (k=3)`. */
  label(s: ScoringParams): string;
  /** The patch score in words for the export sidecar; `d` names the distance ("squared Euclidean distance"). */
  describe(s: ScoringParams, d: string): string;
  /** Reads N_b(m) of the bank (built at fit, and exported as a table). */
  readonly needsNeighbourTable: boolean;
  /**
   * The score is a nondecreasing function of the k ascending nearest distances alone. Then the
   * score against any k allowed rows bounds the leave-one-out score from above, and the threshold
   * may skip cells that cannot reach the maximum (model/leave-out-pruned.ts); otherwise it scores every cell.
   */
  readonly leaveOutBound: boolean;
  /** Nearest bank rows searched per patch. */
  neighbours(s: ScoringParams): number;
  /** The patch score. */
  patchScore(p: PatchNeighbours, s: ScoringParams): number;
  /** The same as graph nodes: [n] patch scores. */
  graph(c: ScoreGraphInputs, s: ScoringParams): string;
}

/** Types a rule with its literal kind, so the registry can derive the kind type. */
export const defineRule = <K extends string>(rule: ScoringRule<K>): ScoringRule<K> => rule;

/** d or d², as the settings say: every rule reports squared distances the same way. */
export const pow = (d: number, s: ScoringParams): number => (s.squared ? d * d : d);

/** The mean of pow(d_j) over the k nearest rows (nearest: k = 1). */
export function meanOfNearest(p: PatchNeighbours, s: ScoringParams): number {
  let sum = 0;
  for (let j = 0; j < p.k; j++) sum += pow(p.dist(j), s);
  return sum / p.k;
}
