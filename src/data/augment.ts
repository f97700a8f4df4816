/**
 * Random augmentation of a batch on the device, deterministic for a seed: a translation of up to
 * `shift` pixels (bilinear, zero outside), a contrast/brightness jitter and Gaussian noise.
 * x: [B, H, W, C] -> same shape, clipped to the batch's own value range ([0, 1] for raw images,
 * whatever a normalisation gives otherwise); no gradient is needed through it (inputs only).
 */
import * as tf from '@tensorflow/tfjs';

export function augment(x: tf.Tensor4D, seed: number, shift = 2, noise = 0.05): tf.Tensor4D {
  return tf.tidy(() => {
    const batch = x.shape[0];
    const [, height, width] = x.shape;
    // A translation as a shifted crop box (every backend has CropAndResize; not all have Transform):
    // output pixel (i, j) samples input (i + dy, j + dx); outside the image it is 0.
    const dy = tf.div(tf.randomUniform([batch, 1], -shift, shift, 'float32', seed + 7), height - 1);
    const dx = tf.div(tf.randomUniform([batch, 1], -shift, shift, 'float32', seed), width - 1);
    const boxes = tf.concat([dy, dx, tf.add(dy, 1), tf.add(dx, 1)], 1) as tf.Tensor2D;
    const indices = tf.range(0, batch, 1, 'int32') as tf.Tensor1D;
    const moved = tf.image.cropAndResize(x, boxes, indices, [height, width], 'bilinear', 0);
    const contrast = tf.randomUniform([batch, 1, 1, 1], 0.8, 1.2, 'float32', seed + 13);
    const brightness = tf.randomUniform([batch, 1, 1, 1], -0.1, 0.1, 'float32', seed + 17);
    const jittered = tf.add(tf.mul(moved, contrast), brightness);
    const noisy = tf.add(jittered, tf.randomNormal(x.shape, 0, noise, 'float32', seed + 19));
    return tf.minimum(tf.maximum(noisy, tf.min(x)), tf.max(x)) as tf.Tensor4D;
  });
}
