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

/**
 * FixMatch's strong augmentation (Sohn et al. 2020), on the device, deterministic for a seed: a
 * rotation of up to `degrees` and a translation of up to `shift` pixels (one affine map per image,
 * nearest-neighbour sampling, 0 outside), a contrast jitter of +-50% around the image's mean and a
 * brightness shift of up to 20% of the batch's value range, then cutout: a square of half the side
 * (a quarter of the image) at a random centre, filled with the image's mean.
 * x: [B, H, W, C] -> same shape, clipped to the batch's own value range.
 */
export function strongAugment(x: tf.Tensor4D, seed: number, degrees = 15, shift = 4): tf.Tensor4D {
  return tf.tidy(() => {
    const [batch, height, width, channels] = x.shape;
    const cy = (height - 1) / 2;
    const cx = (width - 1) / 2;
    const angle = tf.mul(tf.randomUniform([batch, 1, 1], -degrees, degrees, 'float32', seed + 1), Math.PI / 180);
    const ty = tf.randomUniform([batch, 1, 1], -shift, shift, 'float32', seed + 2);
    const tx = tf.randomUniform([batch, 1, 1], -shift, shift, 'float32', seed + 3);
    // Output pixel (i, j) reads input (cy + cos a (i - cy - ty) - sin a (j - cx - tx), cx + sin a (i - cy - ty) + cos a (j - cx - tx)).
    const i = tf.reshape(tf.range(0, height, 1, 'float32'), [1, height, 1]);
    const j = tf.reshape(tf.range(0, width, 1, 'float32'), [1, 1, width]);
    const di = tf.sub(tf.sub(i, cy), ty);
    const dj = tf.sub(tf.sub(j, cx), tx);
    const cos = tf.cos(angle);
    const sin = tf.sin(angle);
    const si = tf.round(tf.add(cy, tf.sub(tf.mul(cos, di), tf.mul(sin, dj))));
    const sj = tf.round(tf.add(cx, tf.add(tf.mul(sin, di), tf.mul(cos, dj))));
    const inside = tf.logicalAnd(tf.logicalAnd(tf.greaterEqual(si, 0), tf.lessEqual(si, height - 1)), tf.logicalAnd(tf.greaterEqual(sj, 0), tf.lessEqual(sj, width - 1)));
    const b = tf.mul(tf.reshape(tf.range(0, batch, 1, 'float32'), [batch, 1, 1]), tf.onesLike(si));
    const indices = tf.cast(tf.stack([b, tf.clipByValue(si, 0, height - 1), tf.clipByValue(sj, 0, width - 1)], 3), 'int32');
    const moved = tf.mul(tf.gatherND(x, indices), tf.expandDims(tf.cast(inside, 'float32'), 3)) as tf.Tensor4D;
    const mean = tf.mean(x, [1, 2, 3], true);
    const range = tf.sub(tf.max(x), tf.min(x));
    const contrast = tf.randomUniform([batch, 1, 1, 1], 0.5, 1.5, 'float32', seed + 4);
    const brightness = tf.mul(tf.randomUniform([batch, 1, 1, 1], -0.2, 0.2, 'float32', seed + 5), range);
    const jittered = tf.add(tf.add(tf.mul(tf.sub(moved, mean), contrast), mean), brightness);
    // Cutout: |i - ci| < H/4 and |j - cj| < W/4 around a random centre.
    const ci = tf.randomUniform([batch, 1, 1], 0, height, 'float32', seed + 6);
    const cj = tf.randomUniform([batch, 1, 1], 0, width, 'float32', seed + 7);
    const cut = tf.logicalAnd(tf.less(tf.abs(tf.sub(i, ci)), height / 4), tf.less(tf.abs(tf.sub(j, cj)), width / 4));
    const mask = tf.tile(tf.expandDims(tf.cast(cut, 'float32'), 3), [1, 1, 1, channels]);
    const out = tf.add(tf.mul(jittered, tf.sub(1, mask)), tf.mul(mean, mask));
    return tf.minimum(tf.maximum(out, tf.min(x)), tf.max(x)) as tf.Tensor4D;
  });
}
