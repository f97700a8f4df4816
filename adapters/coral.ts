/**
 * `coral` — Deep CORAL (Sun & Saenko, 2016): align second-order statistics of source and target
 * outputs of one or several layers (`adapter.layers`, default the feature layer).
 * loss = CE(source) [+ CE(labelled target)] + weight * sum_l w_l ||C_s - C_t||_F^2 / (4 d_l^2)
 */
import { z } from 'zod';
import * as tf from '@tensorflow/tfjs';
import { ClassifierAdapter, type AdapterContext, type AdapterFactory, type LossTerms, type TrainBatch } from '../src/train/adapter.js';
import { alignedLayersSchema, LayerTap, resolveLayers } from '../src/train/alignment.js';
import { crossEntropy } from '../src/losses/classification.js';
import { grlSchedule } from '../src/losses/domain.js';
import { coral } from '../src/losses/coral.js';

const NEEDS = { source: true, targetUnlabelled: true, targetLabels: 'optional' } as const;

const options = z
  .object({
    weight: z.number().nonnegative().default(1),
    /** Ramp the weight up as lambda(p) = 2/(1+exp(-10p)) - 1 (as DANN's reversal coefficient). */
    rampUp: z.boolean().default(true),
    layers: alignedLayersSchema,
  })
  .strict();
type Options = z.infer<typeof options>;

class Coral extends ClassifierAdapter {
  readonly name = 'coral';
  readonly needs = NEEDS;
  private readonly tap: LayerTap;

  constructor(context: AdapterContext, private readonly options: Options) {
    super(context);
    this.tap = new LayerTap(context.backbone, resolveLayers(context.backbone, options.layers, 'coral'));
  }

  loss(batch: TrainBatch): LossTerms {
    const source = this.tap.apply(batch.source!.x);
    const target = this.tap.apply(batch.target!);
    let alignment: tf.Scalar = tf.scalar(0);
    this.tap.layers.forEach((layer, i) => {
      alignment = tf.add(alignment, tf.mul(coral(source.layers[i]!, target.layers[i]!), layer.weight));
    });
    return { cls: crossEntropy(source.logits, batch.source!.y), coral: alignment, ...this.targetTerm(batch) };
  }

  override weights(progress: number): Record<string, number> {
    return { coral: this.options.weight * (this.options.rampUp ? grlSchedule(progress) : 1) };
  }
}

export const coralAdapter: AdapterFactory<Options> = {
  name: 'coral',
  family: 'alignment',
  description: 'CORAL: match source and target feature covariances (Deep CORAL)',
  needs: NEEDS,
  options,
  create: (context, opts) => new Coral(context, opts),
};
