/**
 * Multi-kernel maximum mean discrepancy (MK-MMD), as in DAN: Long et al., "Learning Transferable
 * Features with Deep Adaptation Networks", ICML 2015; estimators from Gretton et al., "A Kernel
 * Two-Sample Test", JMLR 2012.
 *
 *   k(a, b) = (1/M) sum_m exp(-||a - b||^2 / (2 * sigma_m^2)),  2 sigma_m^2 = multiplier_m * median(||.||^2)
 *
 * (the mean of the M Gaussian kernels, so MMD^2 stays in [0, 2] whatever M is).
 *
 * - biased (quadratic-time): MMD^2 = mean K(S,S) + mean K(T,T) - 2 mean K(S,T)
 * - linear-time: mean over i < B/2 of h(s_i, s_{i+B/2}, t_i, t_{i+B/2}),
 *   h(s, s', t, t') = k(s, s') + k(t, t') - k(s, t') - k(s', t)
 *
 * The bandwidths come from the median heuristic: the median (the ceil(P/2)-th largest of the P
 * distinct pairs) of the pairwise squared distances of the joint batch, treated as a constant.
 * source: [B, D], target: [B, D] -> scalar.
 */
import * as tf from '@tensorflow/tfjs';

export const DEFAULT_KERNEL_MULTIPLIERS = [0.25, 0.5, 1, 2, 4] as const;

export interface MmdOptions {
  multipliers?: readonly number[];
  estimator?: 'biased' | 'linear';
}

/** Pairwise squared Euclidean distances: [N, D], [M, D] -> [N, M]. */
export function squaredDistances(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const aa = tf.sum(tf.square(a), 1, true);
    const bb = tf.sum(tf.square(b), 1, true);
    const ab = tf.matMul(a, b, false, true);
    return tf.relu(tf.add(tf.sub(aa, tf.mul(ab, 2)), tf.transpose(bb))) as tf.Tensor2D;
  });
}

function medianOf(joint: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const n = joint.shape[0];
    const d = squaredDistances(joint, joint);
    // Upper triangle without the diagonal, via a constant 0/1 mask; masked entries sort last.
    const mask = tf.sub(tf.ones([n, n]), tf.linalg.bandPart(tf.ones([n, n]), -1, 0));
    const pairs = (n * (n - 1)) / 2;
    const flat = tf.reshape(tf.add(tf.mul(d, mask), tf.mul(tf.sub(1, mask), -1)), [-1]);
    const k = Math.ceil(pairs / 2);
    const median = tf.slice(tf.topk(flat, k).values, [k - 1], [1]);
    return tf.maximum(tf.reshape(median, []), 1e-8) as tf.Scalar;
  });
}

/**
 * Median of the off-diagonal pairwise squared distances of the joint batch, as a constant: the
 * whole computation sits inside one custom-gradient op whose gradient is zero, so the sort (which
 * has no gradient in tfjs) never enters the tape.
 */
export function medianSquaredDistance(joint: tf.Tensor2D): tf.Scalar {
  const op = tf.customGrad(((x: tf.Tensor2D) => ({
    value: medianOf(x),
    gradFunc: (dy: tf.Tensor) => tf.zeros(x.shape).mul(tf.sum(dy)),
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (op as unknown as (x: tf.Tensor2D) => tf.Scalar)(joint);
}

function multiKernel(d2: tf.Tensor, bandwidths: tf.Tensor1D): tf.Tensor {
  // d2: [...], bandwidths (2 sigma^2): [M] -> mean_m exp(-d2 / bw_m), shape [...]
  const expanded = tf.expandDims(d2, -1);
  return tf.mean(tf.exp(tf.neg(tf.div(expanded, bandwidths))), -1);
}

export function mmd(source: tf.Tensor2D, target: tf.Tensor2D, options: MmdOptions = {}): tf.Scalar {
  const multipliers = options.multipliers ?? DEFAULT_KERNEL_MULTIPLIERS;
  return tf.tidy(() => {
    const joint = tf.concat([source, target], 0) as tf.Tensor2D;
    // 2 sigma_m^2 = multiplier_m * median: the median distance sits at the middle kernel.
    const bandwidths = tf.mul(medianSquaredDistance(joint), tf.tensor1d([...multipliers])) as tf.Tensor1D;
    if (options.estimator === 'linear') {
      const half = Math.floor(Math.min(source.shape[0], target.shape[0]) / 2);
      const s1 = tf.slice(source, [0, 0], [half, -1]);
      const s2 = tf.slice(source, [half, 0], [half, -1]);
      const t1 = tf.slice(target, [0, 0], [half, -1]);
      const t2 = tf.slice(target, [half, 0], [half, -1]);
      const pair = (a: tf.Tensor, b: tf.Tensor) => multiKernel(tf.sum(tf.square(tf.sub(a, b)), 1), bandwidths);
      const h = tf.sub(tf.add(pair(s1, s2), pair(t1, t2)), tf.add(pair(s1, t2), pair(s2, t1)));
      return tf.mean(h) as tf.Scalar;
    }
    const kss = tf.mean(multiKernel(squaredDistances(source, source), bandwidths));
    const ktt = tf.mean(multiKernel(squaredDistances(target, target), bandwidths));
    const kst = tf.mean(multiKernel(squaredDistances(source, target), bandwidths));
    return tf.sub(tf.add(kss, ktt), tf.mul(kst, 2)) as tf.Scalar;
  });
}
