/**
 * `coral` — Deep CORAL (Sun & Saenko, 2016): align second-order statistics of source and target
 * outputs of one or several layers (`adapter.layers`, default the feature layer).
 * loss = CE(source) [+ CE(labelled target)] + weight * rampUp(p) * sum_l w_l ||C_s - C_t||_F^2 / (4 d_l^2)
 */
import { z } from 'zod';
import type * as tf from '@tensorflow/tfjs';
import { defineAdapter } from '../src/train/adapter.js';
import { alignmentOptions, LayerAlignmentAdapter } from '../src/train/alignment.js';
import { coral } from '../src/losses/coral.js';

const options = z.object({ ...alignmentOptions }).strict();
type Options = z.infer<typeof options>;

class Coral extends LayerAlignmentAdapter<Options> {
  readonly name = 'coral';

  protected distance(source: tf.Tensor2D, target: tf.Tensor2D): tf.Scalar {
    return coral(source, target);
  }
}

export const coralAdapter = defineAdapter({
  name: 'coral',
  family: 'alignment',
  description: 'CORAL: match source and target feature covariances (Deep CORAL)',
  needs: { source: true, targetUnlabelled: true, targetLabels: 'optional' },
  options,
  create: (context, opts) => new Coral(context, opts, 'coral'),
});
