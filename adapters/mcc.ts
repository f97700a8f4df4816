/**
 * `mcc` — Minimum Class Confusion (Jin et al., "Minimum Class Confusion for Versatile Domain
 * Adaptation", ECCV 2020): on unlabelled target batches, penalise how much probability mass the
 * predictions put on pairs of different classes, weighting confident images up.
 *   loss = CE(source) [+ CE(labelled target)] + weight * MCC(target logits; temperature)
 * (src/losses/confusion.ts has the formula). Defaults: the paper's temperature 2.5 and trade-off 1.
 */
import { z } from 'zod';
import type * as tf from '@tensorflow/tfjs';
import { defineAdapter } from '../src/train/adapter.js';
import { TARGET_LOSS_NEEDS, TargetLossAdapter } from '../src/train/target-loss.js';
import { minimumClassConfusion } from '../src/losses/confusion.js';

const options = z
  .object({
    weight: z.number().nonnegative().default(1),
    temperature: z.number().positive().default(2.5),
    /** The weight ramped up from 0 over training (2 / (1 + exp(-10 p)) - 1); the paper uses none. */
    rampUp: z.boolean().default(false),
  })
  .strict();
type Options = z.infer<typeof options>;

class Mcc extends TargetLossAdapter<Options> {
  readonly name = 'mcc';
  protected readonly term = 'mcc';

  protected targetLoss(logits: tf.Tensor2D): tf.Scalar {
    return minimumClassConfusion(logits, this.options.temperature);
  }
}

export const mccAdapter = defineAdapter({
  name: 'mcc',
  family: 'target prediction',
  description: 'minimum class confusion on target predictions (MCC)',
  needs: TARGET_LOSS_NEEDS,
  options,
  create: (context, opts) => new Mcc(context, opts),
});
