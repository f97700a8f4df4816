/** FixMatch's strong augmentation: deterministic per seed, same shape and value range, rotated/shifted, with a cutout square of the image's mean. */
import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { strongAugment } from '../../src/data/augment.js';
import { useBackend } from '../helpers.js';

test('strongAugment: deterministic for a seed, in range, changed, a quarter-sized cutout at the image mean', async (t) => {
  await useBackend('wasm');
  const x = tf.tidy(() => tf.randomUniform([6, 16, 16, 1], 0, 1, 'float32', 3) as tf.Tensor4D);
  const a = strongAugment(x, 11);
  const b = strongAugment(x, 11);
  const c = strongAugment(x, 12);
  t.deepEqual(a.shape, x.shape);
  t.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()), 'the same seed, the same images');
  t.notDeepEqual(Array.from(a.dataSync()), Array.from(c.dataSync()), 'another seed, other images');
  const values = a.dataSync();
  t.true(Math.min(...values) >= 0 && Math.max(...values) <= 1, 'within the batch range');
  const xs = x.arraySync() as number[][][][];
  const as = a.arraySync() as number[][][][];
  for (let n = 0; n < 6; n++) {
    const mean = xs[n]!.flat(2).reduce((s, v) => s + v, 0) / 256;
    // The cutout square: pixels equal to the image's mean (clipped into range), at most (8 x 8) and at least a corner's 4 x 4.
    const atMean = as[n]!.flat(2).filter((v) => Math.abs(v - mean) < 1e-6).length;
    t.true(atMean >= 16 && atMean <= 64, `image ${n}: ${atMean} cutout pixels`);
    t.notDeepEqual(as[n], xs[n]);
  }
  tf.dispose([x, a, b, c]);
});
