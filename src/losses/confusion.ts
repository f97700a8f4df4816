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
 * tfjs has no SVD: the singular values are the square roots of the eigenvalues of the smaller Gram
 * matrix (A^T A [K, K] or A A^T [B, B]), computed in float64 by cyclic Jacobi rotations on the host
 * (a 10 x 10 matrix for digits: microseconds). The gradient is SVD autograd's (torch.norm(A, 'nuc'),
 * the authors' code): U_r V_r^T over the singular values above 1e-6 x the largest, i.e.
 * A V diag(1/sigma) V^T (or U diag(1/sigma) U^T A). Checked against NumPy's SVD (losses.json) and,
 * on rank-deficient matrices (collapsed predictions), against an SVD known by construction
 * (test/losses/bnm-svd.test.ts). Until 0.3 a coupled Newton-Schulz iteration on the Gram matrix
 * gave the value and its gradient: on a rank-deficient matrix its inverse square root grew as 1.5^k
 * and the loss became NaN.
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

/**
 * Eigenvalues and eigenvectors of a symmetric n x n matrix (row-major, float64), by cyclic Jacobi
 * rotations until the off-diagonal mass is below 1e-15 of the whole: values[i] with vectors[:, i]
 * (column i of the row-major n x n `vectors`).
 */
export function symmetricEigen(matrix: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let total = 0;
  for (let i = 0; i < n * n; i++) total += a[i]! * a[i]!;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += 2 * a[p * n + q]! * a[p * n + q]!;
    if (off <= 1e-30 * Math.max(total, 1e-300)) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (apq === 0) continue;
        const theta = (a[q * n + q]! - a[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: Float64Array.from({ length: n }, (_, i) => a[i * n + i]!), vectors: v };
}

/** Singular values below this fraction of the largest count as zero (no gradient through them). */
const RANK_TOLERANCE = 1e-6;

/** The nuclear norm of a [B, K] matrix (sum of its singular values), with SVD autograd's gradient. */
export function nuclearNorm(a: tf.Tensor2D): tf.Scalar {
  const op = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
    const [rows, cols] = x.shape as [number, number];
    const wide = rows < cols;
    const n = Math.min(rows, cols);
    const values = x.dataSync();
    // The smaller Gram matrix in float64: A A^T when wide, else A^T A.
    const gram = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = i; j < n; j++) {
        let sum = 0;
        if (wide) for (let k = 0; k < cols; k++) sum += values[i * cols + k]! * values[j * cols + k]!;
        else for (let k = 0; k < rows; k++) sum += values[k * cols + i]! * values[k * cols + j]!;
        gram[i * n + j] = sum;
        gram[j * n + i] = sum;
      }
    }
    const eigen = symmetricEigen(gram, n);
    const sigma = Array.from(eigen.values, (l) => Math.sqrt(Math.max(l, 0)));
    const largest = Math.max(...sigma, 0);
    let norm = 0;
    // M = W diag(1 / sigma) W^T over the kept singular values (W: the Gram matrix's eigenvectors).
    const m = new Float32Array(n * n);
    for (let i = 0; i < n; i++) {
      norm += sigma[i]!;
      if (!(sigma[i]! > RANK_TOLERANCE * largest)) continue;
      for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) m[r * n + c] += (eigen.vectors[r * n + i]! * eigen.vectors[c * n + i]!) / sigma[i]!;
    }
    save([x, tf.tensor2d(m, [n, n])]);
    return {
      value: tf.scalar(norm),
      // d||A||_* / dA = U_r V_r^T = M A (wide) or A M.
      gradFunc: (dy: tf.Scalar, saved: tf.Tensor[]) => {
        const [xs, ms] = saved as [tf.Tensor2D, tf.Tensor2D];
        return tf.mul(dy, wide ? tf.matMul(ms, xs) : tf.matMul(xs, ms));
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(a) as tf.Scalar;
}

/** BNM's loss: minus the mean singular value of softmax(logits). */
export function batchNuclearNormLoss(logits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.div(tf.neg(nuclearNorm(tf.softmax(logits))), Math.min(...logits.shape)) as tf.Scalar);
}
