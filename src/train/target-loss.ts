/**
 * Strategies that add one loss on the predictions for unlabelled target images (mcc, entmin):
 *   loss = CE(source) [+ CE(labelled target)] + weight * r(p) * L(target logits)
 * r(p) = 2 / (1 + exp(-10 p)) - 1 with `rampUp` (p: training progress), else 1.
 * with the source and target batches through the network in training mode, each in its own pass.
 */
import type * as tf from '@tensorflow/tfjs';
import { sigmoidRamp } from '../losses/domain.js';
import { ClassifierAdapter, type AdapterContext, type LossTerms, type TrainBatch } from './adapter.js';

/** Labelled source and unlabelled target; labelled target images add `cls_target` when given. */
export const TARGET_LOSS_NEEDS = { source: true, targetUnlabelled: true, targetLabels: 'optional' } as const;

export abstract class TargetLossAdapter<O extends { weight: number; rampUp: boolean }> extends ClassifierAdapter {
  readonly needs = TARGET_LOSS_NEEDS;
  /** The loss term's name in the loss record (`loss/<term>`). */
  protected abstract readonly term: string;

  constructor(context: AdapterContext, protected readonly options: O) {
    super(context);
  }

  /** The target loss of a batch of logits [B, K]. */
  protected abstract targetLoss(logits: tf.Tensor2D): tf.Scalar;

  loss(batch: TrainBatch): LossTerms {
    if (batch.target == null) throw new Error(`${this.name}: the loop supplied no target batch`);
    return { cls: this.sourceTerm(batch), [this.term]: this.targetLoss(this.logits(batch.target)), ...this.targetTerm(batch) };
  }

  override weights(progress: number): Record<string, number> {
    return { [this.term]: this.options.weight * (this.options.rampUp ? sigmoidRamp(progress) : 1) };
  }
}
