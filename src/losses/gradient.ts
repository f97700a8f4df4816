/** Gradient utilities: reversal (DANN) and stop-gradient (tfjs has no stopGradient op). */
import * as tf from '@tensorflow/tfjs';

/** Identity forward; backward, the incoming gradient multiplied by `factor`. */
function scaledGradientIdentity(factor: number): (x: tf.Tensor) => tf.Tensor {
  const op = tf.customGrad(((input: tf.Tensor) => ({
    value: input.clone(),
    gradFunc: (dy: tf.Tensor) => (factor === 0 ? tf.zerosLike(dy) : tf.mul(dy, factor)),
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op as unknown as (x: tf.Tensor) => tf.Tensor;
}

/**
 * Gradient reversal layer (Ganin & Lempitsky, "Unsupervised Domain Adaptation by Backpropagation",
 * ICML 2015): identity forward, gradient multiplied by -lambda backward.
 * x: any shape -> same shape.
 */
export function reverseGradient<T extends tf.Tensor>(x: T, lambda: number): T {
  return scaledGradientIdentity(-lambda)(x) as T;
}

/** Identity forward, zero gradient backward (treats x as a constant, e.g. a kernel bandwidth). */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return scaledGradientIdentity(0)(x) as T;
}
