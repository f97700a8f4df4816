/**
 * Conditional adversarial alignment (Long et al., "Conditional Adversarial Domain Adaptation",
 * NeurIPS 2018). The discriminator reads the multilinear map of features f [B, D] and predictions
 * g = softmax(logits) [B, K]:
 *   T(f, g)   = g (x) f, flattened                 [B, K D]     (when K D <= a threshold, 4,096)
 *   T_r(f, g) = (f R_f) . (g R_g) / sqrt(d)        [B, d]       (otherwise; R_f [D, d], R_g [K, d]
 *                                                                fixed Gaussian matrices, d = 1,024)
 * The predictions are constants in the map (the authors' code detaches them); the gradient
 * reaches the encoder through f, behind the reversal layer.
 * Entropy conditioning (CDAN+E): w = 1 + exp(-H(g)), normalised to sum 1 within each domain (the
 * authors' code), constants; the domain loss becomes sum_i w_i BCE_i / sum_i w_i.
 */
import * as tf from '@tensorflow/tfjs';
import { stopGradient } from './gradient.js';

/** g (x) f flattened, [B, K * D] (row i: g_i1 f_i, g_i2 f_i, ...). */
export function multilinearMap(features: tf.Tensor2D, predictions: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const [b, d] = features.shape;
    const k = predictions.shape[1];
    return tf.reshape(tf.mul(tf.expandDims(predictions, 2), tf.expandDims(features, 1)), [b, k * d]) as tf.Tensor2D;
  });
}

/** (f R_f) . (g R_g) / sqrt(d), [B, d]. */
export function randomMultilinearMap(features: tf.Tensor2D, predictions: tf.Tensor2D, rf: tf.Tensor2D, rg: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(tf.mul(tf.matMul(features, rf), tf.matMul(predictions, rg)), Math.sqrt(rf.shape[1])) as tf.Tensor2D);
}

/** CDAN+E's weights [Bs + Bt] from the logits of each domain (no gradient): 1 + exp(-H), summing to 1 per domain. */
export function entropyConditioningWeights(sourceLogits: tf.Tensor2D, targetLogits: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const weights = (logits: tf.Tensor2D) => {
      const h = tf.neg(tf.sum(tf.mul(tf.softmax(logits), tf.logSoftmax(logits)), 1));
      const w = tf.add(1, tf.exp(tf.neg(h)));
      return tf.div(w, tf.sum(w));
    };
    return tf.concat([weights(stopGradient(sourceLogits)), weights(stopGradient(targetLogits))]) as tf.Tensor1D;
  });
}
