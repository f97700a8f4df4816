/**
 * `source`: train on labelled source only, evaluate on target — the lower bound of every table.
 * Never sees a target label, whatever `target.labels` says.
 */
import { z } from 'zod';
import { ClassifierAdapter, defineAdapter, type LossTerms, type TrainBatch } from '../src/train/adapter.js';

const NEEDS = { source: true, targetUnlabelled: false, targetLabels: 'never' } as const;

class SourceOnly extends ClassifierAdapter {
  readonly name = 'source';
  readonly needs = NEEDS;

  loss(batch: TrainBatch): LossTerms {
    return { cls: this.sourceTerm(batch) };
  }
}

export const sourceAdapter = defineAdapter({
  name: 'source',
  family: 'baseline',
  description: 'labelled source only (lower bound)',
  needs: NEEDS,
  options: z.object({}).strict(),
  create: (context) => new SourceOnly(context),
});
