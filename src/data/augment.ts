/**
 * Random augmentation of a batch on the device, deterministic for a seed: a translation of up to
 * `shift` pixels (bilinear, edges replicated), a contrast/brightness jitter and Gaussian noise.
 * x: [B, H, W, C] in [0, 1] -> same shape; no gradient is needed through it (inputs only).
 */
import * as tf from '@tensorflow/tfjs';

export function augment(x: tf.Tensor4D, seed: number, shift = 2, noise = 0.05): tf.Tensor4D {
  return tf.tidy(() => {
    const batch = x.shape[0];
    const dx = tf.randomUniform([batch, 1], -shift, shift, 'float32', seed);
    const dy = tf.randomUniform([batch, 1], -shift, shift, 'float32', seed + 7);
    // Projective transform rows [a0 a1 a2 b0 b1 b2 c0 c1]: output (x, y) samples input (x + dx, y + dy).
    const ones = tf.ones([batch, 1]);
    const zeros = tf.zeros([batch, 1]);
    const transforms = tf.concat([ones, zeros, dx, zeros, ones, dy, zeros, zeros], 1) as tf.Tensor2D;
    const moved = tf.image.transform(x, transforms, 'bilinear', 'nearest');
    const contrast = tf.randomUniform([batch, 1, 1, 1], 0.8, 1.2, 'float32', seed + 13);
    const brightness = tf.randomUniform([batch, 1, 1, 1], -0.1, 0.1, 'float32', seed + 17);
    const jittered = tf.add(tf.mul(moved, contrast), brightness);
    return tf.clipByValue(tf.add(jittered, tf.randomNormal(x.shape, 0, noise, 'float32', seed + 19)), 0, 1) as tf.Tensor4D;
  });
}
