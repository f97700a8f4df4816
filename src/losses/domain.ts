/**
 * Domain-adversarial loss (Ganin et al., "Domain-Adversarial Training of Neural Networks", JMLR 2016).
 * A discriminator D sees features behind a gradient-reversal layer and predicts the domain:
 *
 *   L = BCE(D(GRL(f_s)), 1) / 2 + BCE(D(GRL(f_t)), 0) / 2
 *   lambda(p) = 2 / (1 + exp(-10 p)) - 1      (the GRL coefficient, p = training progress; sigmoidRamp)
 *
 * sourceFeatures: [Bs, D], targetFeatures: [Bt, D] -> { loss: scalar, accuracy: scalar }.
 */
import * as tf from '@tensorflow/tfjs';
import { reverseGradient } from './gradient.js';

/**
 * The ramp 2 / (1 + exp(-speed p)) - 1 from 0 (p = 0) towards 1: DANN's gradient-reversal
 * coefficient, also the weight ramp of mmd and coral.
 */
export function sigmoidRamp(progress: number, speed = 10): number {
  return 2 / (1 + Math.exp(-speed * progress)) - 1;
}

export function buildDiscriminator(inputSize: number, hidden: number, seed: number, name: string): tf.LayersModel {
  const x = tf.input({ shape: [inputSize], name: `${name}_in` });
  let h = tf.layers.dense({ name: `${name}_fc1`, units: hidden, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) }).apply(x) as tf.SymbolicTensor;
  h = tf.layers.dense({ name: `${name}_fc2`, units: hidden, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }).apply(h) as tf.SymbolicTensor;
  const out = tf.layers.dense({ name: `${name}_out`, units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }) }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: x, outputs: out, name });
}

export function domainAdversarialLoss(
  discriminator: tf.LayersModel,
  sourceFeatures: tf.Tensor2D,
  targetFeatures: tf.Tensor2D,
  lambda: number,
): { loss: tf.Scalar; accuracy: tf.Scalar } {
  const features = reverseGradient(tf.concat([sourceFeatures, targetFeatures], 0) as tf.Tensor2D, lambda);
  const logits = tf.reshape(discriminator.apply(features, { training: true }) as tf.Tensor, [-1]);
  const labels = tf.concat([tf.ones([sourceFeatures.shape[0]]), tf.zeros([targetFeatures.shape[0]])]);
  const loss = tf.losses.sigmoidCrossEntropy(labels, logits) as tf.Scalar;
  const accuracy = tf.mean(tf.cast(tf.equal(tf.cast(tf.greater(logits, 0), 'float32'), labels), 'float32')) as tf.Scalar;
  return { loss, accuracy };
}
