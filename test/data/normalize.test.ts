import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { loadDataset } from '../helpers.js';
import { makeSplits, normalizeDomain } from '../../src/data/splits.js';
import { sequentialBatches, BatchStream } from '../../src/data/batches.js';
import { toFloats } from '../../src/data/types.js';
import { useBackend } from '../helpers.js';

async function channelStats(set: Parameters<typeof sequentialBatches>[0]) {
  const sum = new Float64Array(set.channels);
  const sq = new Float64Array(set.channels);
  let n = 0;
  for (const b of sequentialBatches(set, 512)) {
    const v = await b.x.data();
    b.x.dispose();
    for (let i = 0; i < v.length; i++) {
      sum[i % set.channels] += v[i]!;
      sq[i % set.channels] += v[i]! ** 2;
    }
    n += v.length / set.channels;
  }
  return Array.from(sum, (s, c) => ({ mean: s / n, std: Math.sqrt(sq[c]! / n - (s / n) ** 2) }));
}

test.serial('model.normalize: domain standardises each channel with its training images; symmetric maps to [-1, 1]', async (t) => {
  await useBackend('cpu');
  const synth = makeSplits(loadDataset('synth-digits', 'source.dataset'), [32, 32, 3]);
  const domain = normalizeDomain(synth, 'domain');
  for (const { mean, std } of await channelStats(domain.train)) {
    t.true(Math.abs(mean) < 1e-3, `mean ${mean}`);
    t.true(Math.abs(std - 1) < 1e-3, `std ${std}`);
  }
  t.deepEqual(domain.test.normalization, domain.train.normalization, 'test uses the training statistics');
  const symmetric = normalizeDomain(synth, 'symmetric');
  const x = new BatchStream(symmetric.train, 64, 10, 'n').next();
  const [lo, hi] = [(await x.x.min().data())[0]!, (await x.x.max().data())[0]!];
  tf.dispose([x.x, x.y]);
  t.true(lo >= -1 - 1e-6 && hi <= 1 + 1e-6 && lo < -0.5 && hi > 0.5, `${lo} .. ${hi}`);
  t.is(normalizeDomain(synth, 'unit'), synth);
});

test.serial('model.normalize: instance standardises every image per channel with its own mean and std', async (t) => {
  await useBackend('cpu');
  const mnist = normalizeDomain(makeSplits(loadDataset('mnist-10k', 'target.dataset'), [28, 28, 1]), 'instance');
  const batch = new BatchStream(mnist.test, 8, 10, 'i').next();
  const values = Float32Array.from(await batch.x.data());
  tf.dispose([batch.x, batch.y]);
  const size = 28 * 28;
  for (let i = 0; i < 8; i++) {
    const image = values.subarray(i * size, (i + 1) * size);
    const mean = image.reduce((a, v) => a + v, 0) / size;
    const std = Math.sqrt(image.reduce((a, v) => a + (v - mean) ** 2, 0) / size);
    t.true(Math.abs(mean) < 1e-4 && Math.abs(std - 1) < 1e-3, `image ${i}: mean ${mean}, std ${std}`);
  }
  // An inverted image standardises to the negation of the original: polarity stays visible.
  const plain = new Float32Array(size);
  const inverted = new Float32Array(size);
  toFloats(mnist.test, 3, 1, plain);
  toFloats(mnist.test, 3, 1, inverted, 0, true);
  t.true(plain.every((v, p) => Math.abs(v + inverted[p]!) < 1e-4));
});
