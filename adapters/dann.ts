/**
 * `dann` — Domain-Adversarial Neural Network (Ganin et al., JMLR 2016): a domain classifier on the
 * features, behind a gradient-reversal layer whose coefficient follows lambda(p) = 2/(1+exp(-10p)) - 1;
 * the encoder learns features the discriminator cannot tell apart.
 * loss = CE(source) [+ CE(labelled target)] + weight * BCE(domain); `domain_acc` is logged.
 */
import { z } from 'zod';
import * as tf from '@tensorflow/tfjs';
import { ClassifierAdapter, variablesOf, type AdapterContext, type AdapterFactory, type LossTerms, type Monitor, type TrainBatch } from '../src/train/adapter.js';
import { crossEntropy } from '../src/losses/classification.js';
import { buildDiscriminator, domainAdversarialLoss, grlSchedule } from '../src/losses/domain.js';

const NEEDS = { source: true, targetUnlabelled: true, targetLabels: 'optional' } as const;

const options = z
  .object({
    weight: z.number().nonnegative().default(1),
    /** Units of the discriminator's two hidden layers. */
    hidden: z.number().int().positive().default(100),
    /** gamma of the lambda schedule; lambda is fixed at `lambda` when given. */
    gamma: z.number().positive().default(10),
    lambda: z.number().nonnegative().optional(),
  })
  .strict();
type Options = z.infer<typeof options>;

class Dann extends ClassifierAdapter {
  readonly name = 'dann';
  readonly needs = NEEDS;
  private readonly discriminator: tf.LayersModel;

  constructor(context: AdapterContext, private readonly options: Options) {
    super(context);
    const featureSize = (context.backbone.encoder.outputs[0]!.shape[1] as number) ?? 100;
    this.discriminator = buildDiscriminator(featureSize, options.hidden, context.seed * 31 + 17, 'discriminator');
  }

  override trainableVariables(): tf.Variable[] {
    return [...super.trainableVariables(), ...variablesOf(this.discriminator)];
  }

  loss(batch: TrainBatch, progress: number, monitor: Monitor): LossTerms {
    const sourceFeatures = this.trainFeatures(batch.source!.x);
    const targetFeatures = this.trainFeatures(batch.target!);
    const lambda = this.options.lambda ?? grlSchedule(progress, this.options.gamma);
    const domain = domainAdversarialLoss(this.discriminator, sourceFeatures, targetFeatures, lambda);
    monitor('domain_acc', domain.accuracy);
    const logits = this.classifier.apply(sourceFeatures, { training: true }) as tf.Tensor2D;
    return { cls: crossEntropy(logits, batch.source!.y), domain: domain.loss, ...this.targetTerm(batch) };
  }

  override weights(): Record<string, number> {
    return { domain: this.options.weight };
  }

  override checkpointModels(): Record<string, tf.LayersModel> {
    return { ...super.checkpointModels(), discriminator: this.discriminator };
  }

  override dispose(): void {
    super.dispose();
    this.discriminator.dispose();
  }
}

export const dannAdapter: AdapterFactory<Options> = {
  name: 'dann',
  family: 'alignment',
  description: 'domain classifier behind a gradient-reversal layer (DANN)',
  needs: NEEDS,
  options,
  create: (context, opts) => new Dann(context, opts),
};
