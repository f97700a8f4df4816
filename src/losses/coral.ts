/**
 * CORAL loss (Sun & Saenko, "Deep CORAL: Correlation Alignment for Deep Domain Adaptation",
 * ECCV 2016 workshops):
 *
 *   C = (X^T X - (1^T X)^T (1^T X) / n) / (n - 1)          (feature covariance, [D, D])
 *   L = ||C_s - C_t||_F^2 / (4 d^2)
 *
 * source: [Bs, D], target: [Bt, D] -> scalar.
 */
import * as tf from '@tensorflow/tfjs';

export function covariance(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const n = x.shape[0];
    const centred = tf.sub(x, tf.mean(x, 0, true));
    return tf.div(tf.matMul(centred, centred, true, false), n - 1) as tf.Tensor2D;
  });
}

export function coral(source: tf.Tensor2D, target: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const d = source.shape[1];
    const diff = tf.sub(covariance(source), covariance(target));
    return tf.div(tf.sum(tf.square(diff)), 4 * d * d) as tf.Scalar;
  });
}
