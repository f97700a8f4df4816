/**
 * `target`: the oracle — train on labelled target images. With `target.labels: N` it uses the
 * N-per-class subset; with 0 (or `all`) every image of the target train pool, labels included.
 */
import { z } from 'zod';
import { ClassifierAdapter, defineAdapter, type LossTerms, type TrainBatch } from '../src/train/adapter.js';
import { crossEntropy } from '../src/losses/classification.js';

const NEEDS = { source: false, targetUnlabelled: false, targetLabels: 'oracle' } as const;

class TargetOracle extends ClassifierAdapter {
  readonly name = 'target';
  readonly needs = NEEDS;

  loss(batch: TrainBatch): LossTerms {
    if (batch.targetLabelled == null) throw new Error('target: the loop supplied no labelled target batch');
    return { cls: crossEntropy(this.logits(batch.targetLabelled.x), batch.targetLabelled.y) };
  }
}

export const targetAdapter = defineAdapter({
  name: 'target',
  family: 'baseline',
  description: 'labelled target only (oracle, upper bound)',
  needs: NEEDS,
  options: z.object({}).strict(),
  create: (context) => new TargetOracle(context),
});
