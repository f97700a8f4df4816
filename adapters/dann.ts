/**
 * `dann` — Domain-Adversarial Neural Network (Ganin et al., JMLR 2016): a domain classifier on the
 * features, behind a gradient-reversal layer whose coefficient follows lambda(p) = 2/(1+exp(-10p)) - 1;
 * the encoder learns features the discriminator cannot tell apart.
 * loss = CE(source) [+ CE(labelled target)] + weight * BCE(domain); `domain_acc` is logged.
 */
import { z } from 'zod';
import * as tf from '@tensorflow/tfjs';
import { ClassifierAdapter, defineAdapter, variablesOf, type AdapterContext, type LossTerms, type Monitor, type TrainBatch } from '../src/train/adapter.js';
import { crossEntropy } from '../src/losses/classification.js';
import { buildDiscriminator, domainAdversarialLoss, sigmoidRamp } from '../src/losses/domain.js';
import { LayerTap, resolveLayers } from '../src/train/alignment.js';

const NEEDS = { source: true, targetUnlabelled: true, targetLabels: 'optional' } as const;

const options = z
  .object({
    weight: z.number().nonnegative().default(1),
    /** Units of the discriminator's two hidden layers. */
    hidden: z.number().int().positive().default(100),
    /** Speed of the reversal coefficient's ramp lambda(p) = 2/(1+exp(-grlSpeed p)) - 1; fixed at `lambda` when given. */
    grlSpeed: z.number().positive().default(10),
    lambda: z.number().nonnegative().optional(),
    /**
     * The encoder layer the discriminator reads (default: the feature layer). The paper's digit
     * nets put it on the convolutional features (`flatten` of `digitnet`), before the fc layers.
     */
    layer: z.string().optional(),
  })
  .strict();
type Options = z.infer<typeof options>;

class Dann extends ClassifierAdapter {
  readonly name = 'dann';
  readonly needs = NEEDS;
  private readonly discriminator: tf.LayersModel;
  private readonly tap: LayerTap;

  constructor(context: AdapterContext, private readonly options: Options) {
    super(context);
    const layers = resolveLayers(context.backbone, options.layer == null ? undefined : [options.layer], 'dann', 'layer');
    this.tap = new LayerTap(context.backbone, layers);
    this.discriminator = buildDiscriminator(this.tap.sizes[0]!, options.hidden, context.seed * 31 + 17, 'discriminator');
  }

  override trainableVariables(): tf.Variable[] {
    return [...super.trainableVariables(), ...variablesOf(this.discriminator)];
  }

  loss(batch: TrainBatch, progress: number, monitor: Monitor): LossTerms {
    const source = this.tap.apply(batch.source!.x);
    const target = this.tap.apply(batch.target!);
    const lambda = this.options.lambda ?? sigmoidRamp(progress, this.options.grlSpeed);
    const domain = domainAdversarialLoss(this.discriminator, source.layers[0]!, target.layers[0]!, lambda);
    monitor('domain_acc', domain.accuracy);
    return { cls: crossEntropy(source.logits, batch.source!.y), domain: domain.loss, ...this.targetTerm(batch) };
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

export const dannAdapter = defineAdapter({
  name: 'dann',
  family: 'alignment',
  description: 'domain classifier behind a gradient-reversal layer (DANN)',
  needs: NEEDS,
  options,
  renamed: { gamma: 'grlSpeed' },
  create: (context, opts) => new Dann(context, opts),
});
