/**
 * Classifier discrepancy (Saito et al., "Maximum Classifier Discrepancy for Unsupervised Domain
 * Adaptation", CVPR 2018, eq. 1; the authors' code): the mean absolute difference of two
 * classifiers' probabilities on the same (target) batch,
 *   d(p1, p2) = 1/(B K) sum_i sum_k |p1_ik - p2_ik|,   p = softmax(logits).
 * logits1, logits2: [B, K] -> scalar.
 */
import * as tf from '@tensorflow/tfjs';

export function classifierDiscrepancy(logits1: tf.Tensor2D, logits2: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.abs(tf.sub(tf.softmax(logits1), tf.softmax(logits2)))) as tf.Scalar);
}
