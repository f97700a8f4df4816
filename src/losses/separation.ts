/**
 * Losses of Domain Separation Networks (Bousmalis et al., NeurIPS 2016).
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Difference (soft orthogonality) loss: L = ||S^T P||_F^2 / (D_s D_p), where S (shared) and P
 * (private) features are centred over the batch and L2-normalised per sample, and the squared
 * Frobenius norm is averaged over the D_s x D_p entries, as the authors' code does (their
 * `difference_loss` takes reduce_mean): the scale then does not grow with the feature size.
 * shared: [B, D_s], private: [B, D_p] -> scalar.
 */
export function differenceLoss(shared: tf.Tensor2D, privateFeatures: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const normalise = (x: tf.Tensor2D) => {
      const centred = tf.sub(x, tf.mean(x, 0, true));
      return tf.div(centred, tf.add(tf.norm(centred, 'euclidean', 1, true), 1e-6));
    };
    const correlation = tf.matMul(normalise(shared), normalise(privateFeatures), true, false);
    return tf.mean(tf.square(correlation)) as tf.Scalar;
  });
}

/**
 * Scale-invariant mean squared error (Eigen et al. 2014), per sample then averaged:
 *   L = mean_b [ (1/k) ||d_b||^2 - (1/k^2) (sum_i d_b,i)^2 ],  d = x - x_hat, k = pixels per sample.
 * images, reconstructions: [B, ...] -> scalar.
 */
export function scaleInvariantMse(images: tf.Tensor, reconstructions: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const batch = images.shape[0]!;
    const d = tf.reshape(tf.sub(images, reconstructions), [batch, -1]);
    const k = d.shape[1]!;
    const term1 = tf.div(tf.sum(tf.square(d), 1), k);
    const term2 = tf.div(tf.square(tf.sum(d, 1)), k * k);
    return tf.mean(tf.sub(term1, term2)) as tf.Scalar;
  });
}
