/**
 * Domain-adversarial loss (Ganin et al., "Domain-Adversarial Training of Neural Networks", JMLR 2016).
 * A discriminator D sees features behind a gradient-reversal layer and predicts the domain:
 *
 *   L = BCE(D(GRL(f_s)), 1) / 2 + BCE(D(GRL(f_t)), 0) / 2
 *   lambda(p) = 2 / (1 + exp(-10 p)) - 1      (the GRL coefficient, p = training progress; sigmoidRamp)
 *
 * sourceFeatures: [Bs, D], targetFeatures: [Bt, D] -> { loss: scalar, accuracy: scalar }.
 * The discriminator module and the reversal schedule shared by the strategies: src/train/adversarial.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { reverseGradient } from './gradient.js';

/**
 * The ramp 2 / (1 + exp(-speed p)) - 1 from 0 (p = 0) towards 1: DANN's gradient-reversal
 * coefficient, also the weight ramp of mmd and coral.
 */
export function sigmoidRamp(progress: number, speed = 10): number {
  return 2 / (1 + Math.exp(-speed * progress)) - 1;
}

/** Logits [B] of a discriminator (any function of features [B, D] to [B, 1] or [B]). */
export type Discriminate = (features: tf.Tensor2D) => tf.Tensor;

/**
 * The adversarial domain loss behind a gradient-reversal layer. With `weights` ([Bs + Bt], source
 * rows first; CDAN+E's entropy weights), the weighted mean sum(w_i BCE_i) / sum(w_i); without, the
 * plain mean.
 */
export function domainAdversarialLoss(
  discriminate: Discriminate,
  sourceFeatures: tf.Tensor2D,
  targetFeatures: tf.Tensor2D,
  lambda: number,
  weights?: tf.Tensor1D,
): { loss: tf.Scalar; accuracy: tf.Scalar } {
  const features = reverseGradient(tf.concat([sourceFeatures, targetFeatures], 0) as tf.Tensor2D, lambda);
  return domainClassification(discriminate, features, sourceFeatures.shape[0], targetFeatures.shape[0], weights);
}

/**
 * Binary cross-entropy of a discriminator that tells source (label 1, the first `sourceCount` rows)
 * from target (label 0), and its accuracy. No gradient reversal: ADDA's discriminator step.
 */
export function domainClassification(discriminate: Discriminate, features: tf.Tensor2D, sourceCount: number, targetCount: number, weights?: tf.Tensor1D): { loss: tf.Scalar; accuracy: tf.Scalar } {
  const logits = tf.reshape(discriminate(features), [-1]);
  const labels = tf.concat([tf.ones([sourceCount]), tf.zeros([targetCount])]);
  const loss =
    weights == null
      ? (tf.losses.sigmoidCrossEntropy(labels, logits) as tf.Scalar)
      : (tf.div(tf.sum(tf.mul(weights, tf.losses.sigmoidCrossEntropy(labels, logits, undefined, undefined, tf.Reduction.NONE))), tf.sum(weights)) as tf.Scalar);
  const accuracy = tf.mean(tf.cast(tf.equal(tf.cast(tf.greater(logits, 0), 'float32'), labels), 'float32')) as tf.Scalar;
  return { loss, accuracy };
}

/**
 * ADDA's encoder objective (Tzeng et al. 2017, the GAN loss with inverted labels): the target
 * features should be classified as source. BCE(D(f_t), 1), mean over the batch.
 */
export function invertedLabelLoss(discriminate: Discriminate, targetFeatures: tf.Tensor2D): tf.Scalar {
  const logits = tf.reshape(discriminate(targetFeatures), [-1]);
  return tf.losses.sigmoidCrossEntropy(tf.onesLike(logits), logits) as tf.Scalar;
}
