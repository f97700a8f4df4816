import * as tf from '@tensorflow/tfjs';

/**
 * Softmax cross-entropy, mean over the batch.
 * logits: [B, K]; oneHot: [B, K] -> scalar.
 */
export function crossEntropy(logits: tf.Tensor2D, oneHot: tf.Tensor2D): tf.Scalar {
  return tf.losses.softmaxCrossEntropy(oneHot, logits) as tf.Scalar;
}

/**
 * Cross-entropy with label smoothing (Szegedy et al. 2016; SHOT's source phase, epsilon 0.1):
 * targets (1 - epsilon) oneHot + epsilon / K. logits: [B, K]; oneHot: [B, K] -> scalar.
 */
export function smoothedCrossEntropy(logits: tf.Tensor2D, oneHot: tf.Tensor2D, epsilon: number): tf.Scalar {
  return tf.tidy(() => {
    const k = logits.shape[1];
    const target = tf.add(tf.mul(oneHot, 1 - epsilon), epsilon / k);
    return tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(logits)), 1))) as tf.Scalar;
  });
}
