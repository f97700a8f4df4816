/**
 * Information maximisation (SHOT: Liang et al., "Do We Really Need to Access the Source Data?
 * Source Hypothesis Transfer for Unsupervised Domain Adaptation", ICML 2020, eq. 2-3; the same
 * objective as Krause et al. 2010's RIM): confident predictions per image, diverse over the batch.
 *   L_ent = mean_i H(p_i),   L_div = sum_k pbar_k log pbar_k = -H(pbar),   pbar = mean_i p_i
 *   L_IM  = L_ent + L_div
 * logits: [B, K] -> scalar.
 */
import * as tf from '@tensorflow/tfjs';

export function informationMaximisation(logits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const p = tf.softmax(logits);
    const entropy = tf.mean(tf.neg(tf.sum(tf.mul(p, tf.logSoftmax(logits)), 1)));
    const mean = tf.mean(p, 0);
    const diversity = tf.sum(tf.mul(mean, tf.log(tf.add(mean, 1e-5))));
    return tf.add(entropy, diversity) as tf.Scalar;
  });
}
