/**
 * Target-prediction losses for unlabelled target batches.
 *
 * Minimum class confusion (Jin et al., "Minimum Class Confusion for Versatile Domain Adaptation",
 * ECCV 2020), logits Z [B, K]:
 *   Y = softmax(Z / T)                                   (temperature T, 2.5 in the paper)
 *   h_i = -sum_j Y_ij log Y_ij,  w_i = B (1 + exp(-h_i)) / sum_i' (1 + exp(-h_i'))   (constants: no gradient)
 *   C = Y^T diag(w) Y                                    [K, K], class correlation
 *   C~_jj' = C_jj' / sum_j'' C_jj''                      (category normalisation)
 *   L = (sum_jj' C~_jj' - trace C~) / K                  (confusion between different classes)
 *
 * Entropy minimisation (Grandvalet & Bengio, "Semi-supervised Learning by Entropy Minimization",
 * NeurIPS 2004): L = mean_i -sum_j p_ij log p_ij with p = softmax(Z).
 */
import * as tf from '@tensorflow/tfjs';
import { stopGradient } from './gradient.js';

/** Per-row entropy of softmax(logits), [B]. */
function rowEntropy(logits: tf.Tensor2D): tf.Tensor1D {
  return tf.neg(tf.sum(tf.mul(tf.softmax(logits), tf.logSoftmax(logits)), 1)) as tf.Tensor1D;
}

export function minimumClassConfusion(logits: tf.Tensor2D, temperature = 2.5): tf.Scalar {
  return tf.tidy(() => {
    const [batch, classes] = logits.shape;
    const scaled = tf.div(logits, temperature) as tf.Tensor2D;
    const y = tf.softmax(scaled);
    const certainty = tf.add(1, tf.exp(tf.neg(rowEntropy(stopGradient(scaled)))));
    const weights = tf.div(tf.mul(certainty, batch), tf.sum(certainty));
    const correlation = tf.matMul(tf.mul(y, tf.expandDims(weights, 1)), y, true, false);
    const normalised = tf.div(correlation, tf.sum(correlation, 1, true));
    return tf.div(tf.sub(tf.sum(normalised), tf.sum(tf.mul(normalised, tf.eye(classes)))), classes) as tf.Scalar;
  });
}

export function entropyLoss(logits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(rowEntropy(logits)) as tf.Scalar);
}
