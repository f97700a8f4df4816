/**
 * `mmd` — Deep Adaptation Network (Long et al., ICML 2015): minimise the multi-kernel MMD between
 * source and target outputs of one or several layers (`adapter.layers`, default the feature layer).
 * loss = CE(source) [+ CE(labelled target)] + weight * rampUp(p) * sum_l w_l MMD^2_l
 */
import { z } from 'zod';
import type * as tf from '@tensorflow/tfjs';
import { defineAdapter } from '../src/train/adapter.js';
import { alignmentOptions, LayerAlignmentAdapter } from '../src/train/alignment.js';
import { DEFAULT_KERNEL_MULTIPLIERS, mmd } from '../src/losses/mmd.js';

const options = z
  .object({
    ...alignmentOptions,
    kernels: z.array(z.number().positive()).min(1).default([...DEFAULT_KERNEL_MULTIPLIERS]),
    estimator: z.enum(['biased', 'linear']).default('biased'),
  })
  .strict();
type Options = z.infer<typeof options>;

class Mmd extends LayerAlignmentAdapter<Options> {
  readonly name = 'mmd';

  protected distance(source: tf.Tensor2D, target: tf.Tensor2D): tf.Scalar {
    return mmd(source, target, { multipliers: this.options.kernels, estimator: this.options.estimator });
  }
}

export const mmdAdapter = defineAdapter({
  name: 'mmd',
  family: 'alignment',
  description: 'multi-kernel MMD between source and target features (DAN)',
  needs: { source: true, targetUnlabelled: true, targetLabels: 'optional' },
  options,
  create: (context, opts) => new Mmd(context, opts, 'mmd'),
});
