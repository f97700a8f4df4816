/**
 * Model selection: a validator scores a checkpoint at each evaluation; `select.by` names the one
 * whose best score picks the reported checkpoint. Higher is better for every validator. One file
 * per validator in this folder, one binding line each in src/container.ts.
 */
import type { Evaluation } from '../evaluate.js';

export interface ValidationInputs {
  step: number;
  /** Softmax outputs on a fixed sample of unlabelled target training images, [n, k] row-major. */
  targetPool: { probs: ArrayLike<number>; n: number; k: number };
  /** Labelled source validation split. */
  sourceVal: Evaluation;
  /** Labelled target validation split: only validators with `readsTargetLabels` may use it. */
  targetVal: Evaluation;
  /** Encoder features and per-image losses, computed only when a validator declares `needsFeatures`. */
  features?: {
    /** A fixed sample of the source validation split, [ns, d], with each image's cross-entropy. */
    source: Float32Array;
    sourceLoss: Float32Array;
    /** The unlabelled target sample of `targetPool`, [nt, d]. */
    target: Float32Array;
    d: number;
  };
}

export interface Validator {
  readonly name: string;
  readonly description: string;
  /** True for the oracle: such a validator is a reference, never an honest selection. */
  readonly readsTargetLabels: boolean;
  /** Logged as `select/<name>` at every evaluation (false where the score is logged already: the step, target_val_acc). */
  readonly logged: boolean;
  /** The score reads `features` (the loop computes them only then). */
  readonly needsFeatures?: boolean;
  score(inputs: ValidationInputs): number;
}

/**
 * What model selection remembers between evaluations: a plain value (the chosen checkpoint's
 * weights are held beside it by the loop), so it can be saved with a checkpoint and restored.
 */
export interface SelectionState {
  /** The evaluation with the best score of `select.by` so far. */
  best: { step: number; score: number; metrics: Record<string, number> } | null;
  /** The evaluation with the best labelled target validation accuracy (reference only). */
  oracle: { score: number; targetTestAcc: number } | null;
}

export const EMPTY_SELECTION: SelectionState = { best: null, oracle: null };

/** The state after one evaluation, and whether it became the selected checkpoint. */
export function updateSelection(
  state: SelectionState,
  evaluation: { step: number; score: number; metrics: Record<string, number>; targetValAcc: number; targetTestAcc: number },
): { state: SelectionState; improved: boolean } {
  // A score that could not be computed (NaN) is worse than any number.
  const improved = state.best == null || (!Number.isNaN(evaluation.score) && (Number.isNaN(state.best.score) || evaluation.score > state.best.score));
  const best = improved ? { step: evaluation.step, score: evaluation.score, metrics: evaluation.metrics } : state.best;
  const oracle = state.oracle == null || evaluation.targetValAcc > state.oracle.score ? { score: evaluation.targetValAcc, targetTestAcc: evaluation.targetTestAcc } : state.oracle;
  return { state: { best, oracle }, improved };
}
