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
 * Batch nuclear-norm maximisation (Cui et al., "Towards Discriminability and Diversity: Batch
 * Nuclear-norm Maximization under Label Insufficient Situations", CVPR 2020), A = softmax(Z) [B, K]:
 *   L = -||A||_* / min(B, K)          (the mean singular value, as the authors' code: -mean(svd(A)))
 * tfjs has no SVD: ||A||_* = trace(sqrt(G)) with G the smaller Gram matrix (A^T A [K, K] or A A^T
 * [B, B]), sqrt(G) by the coupled Newton-Schulz iteration on G / ||G||_F (Higham 2008, eq. 6.35):
 *   Y0 = G / c, Z0 = I;  T = (3I - Z Y) / 2,  Y <- Y T,  Z <- T Z;   sqrt(G) = sqrt(c) Y
 * differentiable through tfjs's own gradients; checked against NumPy's SVD (losses.json).
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

/** Newton-Schulz iterations for the matrix square root (eigenvalues of G / ||G||_F above ~1e-6 converge). */
const NEWTON_SCHULZ_STEPS = 30;

/** The nuclear norm of a [B, K] matrix (sum of its singular values). */
export function nuclearNorm(a: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const [rows, cols] = a.shape;
    const gram = rows < cols ? tf.matMul(a, a, false, true) : tf.matMul(a, a, true, false);
    const n = Math.min(rows, cols);
    const scale = tf.add(tf.sqrt(tf.sum(tf.square(gram))), 1e-12);
    const eye = tf.eye(n);
    let y: tf.Tensor2D = tf.div(gram, scale);
    let z: tf.Tensor2D = eye;
    for (let i = 0; i < NEWTON_SCHULZ_STEPS; i++) {
      const t = tf.mul(tf.sub(tf.mul(eye, 3), tf.matMul(z, y)), 0.5) as tf.Tensor2D;
      y = tf.matMul(y, t);
      z = tf.matMul(t, z);
    }
    return tf.mul(tf.sqrt(scale), tf.sum(tf.mul(y, eye))) as tf.Scalar;
  });
}

/** BNM's loss: minus the mean singular value of softmax(logits). */
export function batchNuclearNormLoss(logits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.div(tf.neg(nuclearNorm(tf.softmax(logits))), Math.min(...logits.shape)) as tf.Scalar);
}
