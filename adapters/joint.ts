/**
 * `joint`: source plus the labelled target subset, the "S+T" baseline of semi-supervised domain
 * adaptation (e.g. Saito et al., "Semi-supervised Domain Adaptation via Minimax Entropy", 2019).
 * loss = CE(source) + CE(labelled target).
 */
import { z } from 'zod';
import { ClassifierAdapter, defineAdapter, type LossTerms, type TrainBatch } from '../src/train/adapter.js';

const NEEDS = { source: true, targetUnlabelled: false, targetLabels: 'required' } as const;

class Joint extends ClassifierAdapter {
  readonly name = 'joint';
  readonly needs = NEEDS;

  loss(batch: TrainBatch): LossTerms {
    return { cls: this.sourceTerm(batch), ...this.targetTerm(batch) };
  }
}

export const jointAdapter = defineAdapter({
  name: 'joint',
  family: 'baseline',
  description: 'source + labelled target subset (S+T)',
  needs: NEEDS,
  options: z.object({}).strict(),
  create: (context) => new Joint(context),
});
