// The scoring rules. A new rule is its file plus one entry in BUILT_IN; the kind type, model.json's
// check, the CLI's choices and help, predict, the threshold, export and the report follow from here.
import { invalid } from '../../util/errors.js';
import { knnMeanRule } from './knn-mean.js';
import { nearestRule } from './nearest.js';
import { neighbourhoodRule } from './neighbourhood.js';
import type { ScoringRule } from './rule.js';

export type { PatchNeighbours, ScoreGraphInputs, ScoringParams, ScoringRule } from './rule.js';
export { defineRule, meanOfNearest, pow } from './rule.js';

const BUILT_IN = [nearestRule, knnMeanRule, neighbourhoodRule] as const;

/** The kinds of the built-in rules. */
export type ScoreKind = (typeof BUILT_IN)[number]['kind'];

/** The built-in kinds, in the CLI's order. */
export const SCORE_KINDS: readonly ScoreKind[] = BUILT_IN.map((r) => r.kind);

const rules = new Map<string, ScoringRule>(BUILT_IN.map((r) => [r.kind, r]));

/** Every rule, built-in first, then those registered at run time. */
export const scoringRules = (): ScoringRule[] => [...rules.values()];

export const isScoreKind = (x: unknown): x is ScoreKind => typeof x === 'string' && rules.has(x);

/** `"nearest", "knn-mean" or "neighbourhood"`: the kinds, for error messages. */
export function scoreKindList(): string {
  const q = [...rules.keys()].map((k) => JSON.stringify(k));
  return q.length < 2 ? q.join('') : `${q.slice(0, -1).join(', ')} or ${q[q.length - 1]}`;
}

/** The rule of a kind; an unknown kind is a user error naming the known ones. */
export function scoringRule(kind: string): ScoringRule {
  const r = rules.get(kind);
  if (!r) throw invalid('scoring.kind', scoreKindList(), kind);
  return r;
}

/**
 * Add a rule at run time (a library user's own, or a test's): fit, predict, the threshold, export
 * and model.json's check accept its kind from then on. Configs then carry it as a ScoreKind by cast.
 */
export function registerScoringRule(rule: ScoringRule): void {
  if (rules.has(rule.kind)) throw invalid('rule.kind', 'a kind not registered yet', rule.kind);
  rules.set(rule.kind, rule);
}
