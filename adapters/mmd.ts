/**
 * `mmd` — Deep Adaptation Network (Long et al., ICML 2015): minimise the multi-kernel MMD between
 * source and target outputs of one or several layers (`adapter.layers`, default the feature layer).
 * loss = CE(source) [+ CE(labelled target)] + weight * sum_l w_l MMD^2_l
 */
import { z } from 'zod';
import * as tf from '@tensorflow/tfjs';
import { ClassifierAdapter, type AdapterContext, type AdapterFactory, type LossTerms, type TrainBatch } from '../src/train/adapter.js';
import { alignedLayersSchema, LayerTap, resolveLayers } from '../src/train/alignment.js';
import { crossEntropy } from '../src/losses/classification.js';
import { grlSchedule } from '../src/losses/domain.js';
import { DEFAULT_KERNEL_MULTIPLIERS, mmd } from '../src/losses/mmd.js';

const NEEDS = { source: true, targetUnlabelled: true, targetLabels: 'optional' } as const;

const options = z
  .object({
    weight: z.number().nonnegative().default(1),
    /** Ramp the weight up as lambda(p) = 2/(1+exp(-10p)) - 1 (as DANN's reversal coefficient). */
    rampUp: z.boolean().default(true),
    layers: alignedLayersSchema,
    kernels: z.array(z.number().positive()).min(1).default([...DEFAULT_KERNEL_MULTIPLIERS]),
    estimator: z.enum(['biased', 'linear']).default('biased'),
  })
  .strict();
type Options = z.infer<typeof options>;

class Mmd extends ClassifierAdapter {
  readonly name = 'mmd';
  readonly needs = NEEDS;
  private readonly tap: LayerTap;

  constructor(context: AdapterContext, private readonly options: Options) {
    super(context);
    this.tap = new LayerTap(context.backbone, resolveLayers(context.backbone, options.layers, 'mmd'));
  }

  loss(batch: TrainBatch): LossTerms {
    const source = this.tap.apply(batch.source!.x);
    const target = this.tap.apply(batch.target!);
    let alignment: tf.Scalar = tf.scalar(0);
    this.tap.layers.forEach((layer, i) => {
      const term = mmd(source.layers[i]!, target.layers[i]!, { multipliers: this.options.kernels, estimator: this.options.estimator });
      alignment = tf.add(alignment, tf.mul(term, layer.weight));
    });
    return { cls: crossEntropy(source.logits, batch.source!.y), mmd: alignment, ...this.targetTerm(batch) };
  }

  override weights(progress: number): Record<string, number> {
    return { mmd: this.options.weight * (this.options.rampUp ? grlSchedule(progress) : 1) };
  }
}

export const mmdAdapter: AdapterFactory<Options> = {
  name: 'mmd',
  family: 'alignment',
  description: 'multi-kernel MMD between source and target features (DAN)',
  needs: NEEDS,
  options,
  create: (context, opts) => new Mmd(context, opts),
};
