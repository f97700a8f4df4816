/**
 * `bnm` — Batch Nuclear-norm Maximisation (Cui et al., "Towards Discriminability and Diversity:
 * Batch Nuclear-norm Maximization under Label Insufficient Situations", CVPR 2020): on unlabelled
 * target batches, maximise the nuclear norm of the prediction matrix softmax(Z) [B, K], which
 * rewards confident predictions (discriminability) spread over many classes (diversity).
 *   loss = CE(source) [+ CE(labelled target)] + weight * (-||softmax(Z_target)||_* / min(B, K))
 * (src/losses/confusion.ts: the nuclear norm without an SVD). Default: the paper's trade-off 1.
 */
import { z } from 'zod';
import type * as tf from '@tensorflow/tfjs';
import { defineAdapter } from '../src/train/adapter.js';
import { TARGET_LOSS_NEEDS, TargetLossAdapter } from '../src/train/target-loss.js';
import { batchNuclearNormLoss } from '../src/losses/confusion.js';

const options = z
  .object({
    weight: z.number().nonnegative().default(1),
    /** The weight ramped up from 0 over training (2 / (1 + exp(-10 p)) - 1); the paper uses none. */
    rampUp: z.boolean().default(false),
  })
  .strict();
type Options = z.infer<typeof options>;

class Bnm extends TargetLossAdapter<Options> {
  readonly name = 'bnm';
  protected readonly term = 'bnm';

  protected targetLoss(logits: tf.Tensor2D): tf.Scalar {
    return batchNuclearNormLoss(logits);
  }
}

export const bnmAdapter = defineAdapter({
  name: 'bnm',
  family: 'target prediction',
  description: 'batch nuclear-norm maximisation on target predictions (BNM)',
  needs: TARGET_LOSS_NEEDS,
  options,
  create: (context, opts) => new Bnm(context, opts),
});
