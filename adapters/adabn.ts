/**
 * `adabn` — Adaptive Batch Normalisation (Li et al., "Revisiting Batch Normalization for Practical
 * Domain Adaptation", ICLR workshop 2017 / Pattern Recognition 2018): a network trained on the
 * source keeps every weight; only the batch-norm layers' statistics are replaced by the target
 * domain's. Each batch-norm layer's moving mean and variance become the average over `batches`
 * target batches of the statistics of its input, with the earlier layers already normalised by the
 * target's statistics (a forward pass in training mode per batch, the running average weighted
 * 1/k for the k-th batch).
 *
 * Without `model.from` a source model is trained first for `pretrainSteps` (default: train.steps).
 * A backbone without batch normalisation is a configuration error (exit 2).
 */
import { z } from 'zod';
import * as tf from '@tensorflow/tfjs';
import { ClassifierAdapter, defineAdapter, type AdapterContext, type LossTerms, type TrainBatch, type TrainingPhase } from '../src/train/adapter.js';
import { entropyLoss } from '../src/losses/confusion.js';
import { UserError } from '../src/messages.js';

const NEEDS = { source: true, targetUnlabelled: true, targetLabels: 'never' } as const;

const options = z
  .object({
    /** Target batches (of train.batchSize) averaged into the statistics. */
    batches: z.number().int().positive().default(50),
    /** Source training steps before the statistics pass (default: train.steps); none with model.from. */
    pretrainSteps: z.number().int().positive().optional(),
  })
  .strict();
type Options = z.infer<typeof options>;

/** tfjs's BatchNormalization keeps its momentum in a plain field. */
interface BatchNormLayer extends tf.layers.Layer {
  momentum: number;
}

class AdaBn extends ClassifierAdapter {
  readonly name = 'adabn';
  readonly needs = NEEDS;
  private readonly norms: BatchNormLayer[];
  private readonly momenta: number[];

  constructor(context: AdapterContext, private readonly options: Options) {
    super(context);
    this.norms = [this.encoder, this.classifier].flatMap((m) => m.layers.filter((l) => l.getClassName() === 'BatchNormalization')) as BatchNormLayer[];
    if (this.norms.length === 0) {
      throw new UserError(`adapter.name: strategy 'adabn' recomputes batch-norm statistics, and backbone '${context.backbone.name}' has no batch normalisation (use e.g. resnet, densenet or mobilenet)`);
    }
    this.momenta = this.norms.map((l) => l.momentum);
  }

  override phases(steps: number): TrainingPhase[] {
    const statistics: TrainingPhase = {
      name: 'adabn',
      steps: this.options.batches,
      needs: { source: false, targetUnlabelled: true, targetLabels: 'never' },
      evaluate: true,
      variableGroups: () => [],
      // The k-th target batch enters each layer's statistics with weight 1/k (momentum (k-1)/k).
      prepare: (batch, progress) => {
        const k = Math.round(progress * this.options.batches) + 1;
        for (const layer of this.norms) layer.momentum = (k - 1) / k;
        this.encoder.apply(batch.target!, { training: true });
        return {};
      },
      // Watched, not minimised: the entropy of the target predictions as the statistics adapt.
      loss: (batch) => ({ target_entropy: entropyLoss(this.classifier.apply(this.encoder.apply(batch.target!)) as tf.Tensor2D) }),
      weights: () => ({}),
      afterStep: () => this.norms.forEach((layer, i) => (layer.momentum = this.momenta[i]!)),
    };
    if (this.context.pretrained) return [statistics];
    return [this.sourcePhase(this.options.pretrainSteps ?? steps), statistics];
  }

  loss(batch: TrainBatch): LossTerms {
    return { cls: this.sourceTerm(batch) };
  }
}

export const adabnAdapter = defineAdapter({
  name: 'adabn',
  family: 'normalisation',
  description: 'batch-norm statistics recomputed on the target domain (AdaBN)',
  needs: NEEDS,
  options,
  create: (context, opts) => new AdaBn(context, opts),
});
