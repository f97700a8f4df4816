import * as tf from '@tensorflow/tfjs';

/**
 * Softmax cross-entropy, mean over the batch.
 * logits: [B, K]; oneHot: [B, K] -> scalar.
 */
export function crossEntropy(logits: tf.Tensor2D, oneHot: tf.Tensor2D): tf.Scalar {
  return tf.losses.softmaxCrossEntropy(oneHot, logits) as tf.Scalar;
}
