import test from 'ava';
import { materialize, toInputShape } from '../../src/data/preprocess.js';
import { normalizeDomain, stratifiedSample } from '../../src/data/splits.js';
import { BatchStream, sequentialBatches } from '../../src/data/batches.js';
import { channelStats, fingerprint, subset, toFloats, type ImageSet } from '../../src/data/types.js';
import { loadMnist10k } from '../../src/data/mnist10k.js';

test('bilinear resize keeps constant images constant and grey -> RGB copies the channel', (t) => {
  const set = { images: new Uint8Array(16 * 16).fill(200), labels: Int32Array.from([1]), count: 1, height: 16, width: 16, channels: 1 };
  const out = materialize(toInputShape(set, [28, 28, 3]));
  t.is(out.images.length, 28 * 28 * 3);
  t.true(out.images.every((v) => v === 200));
});

test('RGB -> grey uses BT.601 luma; resize interpolates between pixels', (t) => {
  const rgb = { images: Uint8Array.from([255, 0, 0, 0, 0, 255]), labels: Int32Array.from([0]), count: 1, height: 1, width: 2, channels: 3 };
  t.deepEqual(Array.from(toInputShape(rgb, [1, 2, 1]).images), [76, 29]);
  const ramp = { images: Uint8Array.from([0, 100]), labels: Int32Array.from([0]), count: 1, height: 1, width: 2, channels: 1 };
  // Half-pixel centres: 4 outputs sample x = -0.25 (clamped 0), 0.25, 0.75, 1.25 (clamped 1).
  t.deepEqual(Array.from(materialize(toInputShape(ramp, [1, 4, 1])).images), [0, 25, 75, 100]);
});

test('mnist-10k splits follow the documented rule and are disjoint', (t) => {
  const d = loadMnist10k();
  t.is(d.train.count + d.val!.count + d.test.count, 10000);
  t.is(d.test.count, 2008);
  t.is(d.val!.count, 1002);
});

test('the labelled target subset depends only on the seed: N per class, identical across calls', (t) => {
  const labels = Int32Array.from({ length: 500 }, (_, i) => i % 10);
  const a = stratifiedSample(labels, 10, 5, 3);
  const b = stratifiedSample(labels, 10, 5, 3);
  const c = stratifiedSample(labels, 10, 5, 4);
  t.deepEqual(a, b);
  t.notDeepEqual(a, c);
  t.is(a.length, 50);
  for (let k = 0; k < 10; k++) t.is(a.filter((i) => labels[i] === k).length, 5);
});

/** The old rule: every set converted at load (what a larger input used to cost in memory). */
function eager(set: ImageSet, shape: [number, number, number]): ImageSet {
  return materialize(toInputShape(set, shape));
}

test('inputs larger than the stored images are resized per batch: same floats, stored bytes only', (t) => {
  const d = loadMnist10k();
  const train = subset(d.train, Array.from({ length: 300 }, (_, i) => i * 7));
  for (const shape of [[64, 64, 3], [32, 32, 1], [30, 40, 3]] as [number, number, number][]) {
    const lazy = toInputShape(train, shape);
    const full = eager(train, shape);
    t.truthy(lazy.stored, `${shape} keeps the stored shape`);
    t.is(lazy.images.length, train.images.length, 'no bytes at the input size');
    t.is(full.images.length, train.count * shape[0] * shape[1] * shape[2]);
    const size = shape[0] * shape[1] * shape[2];
    const a = new Float32Array(17 * size);
    const b = new Float32Array(17 * size);
    toFloats(lazy, 101, 17, a);
    toFloats(full, 101, 17, b);
    t.deepEqual(a, b, `${shape}: toFloats`);
    // Subsets (labelled target images) keep the stored shape and give the same floats.
    const pick = [5, 3, 250, 17];
    const sa = subset(lazy, pick);
    const sb = subset(full, pick);
    t.truthy(sa.stored);
    const fa = new Float32Array(4 * size);
    const fb = new Float32Array(4 * size);
    toFloats(sa, 0, 4, fa);
    toFloats(sb, 0, 4, fb);
    t.deepEqual(fa, fb, `${shape}: subset`);
    t.not(fingerprint(lazy), fingerprint(train), 'the input shape is part of the identity');
  }
  // Every normalisation, batch streams and evaluation batches agree with the conversion at load.
  const shape: [number, number, number] = [48, 48, 3];
  for (const mode of ['unit', 'symmetric', 'domain', 'instance', 'imagenet'] as const) {
    const splits = (s: ImageSet) => normalizeDomain({ name: 'x', numClasses: 10, train: s, val: s, test: s }, mode);
    const lazy = splits(toInputShape(train, shape));
    const full = splits(eager(train, shape));
    t.deepEqual(lazy.train.normalization, full.train.normalization, `${mode}: statistics`);
    const ba = new BatchStream(lazy.train, 32, 10, 'seed', 0.5).next();
    const bb = new BatchStream(full.train, 32, 10, 'seed', 0.5).next();
    t.deepEqual(ba.x.shape, [32, 48, 48, 3]);
    t.deepEqual(ba.x.dataSync(), bb.x.dataSync(), `${mode}: batch stream`);
    const ea = sequentialBatches(lazy.test, 64).next().value!;
    const eb = sequentialBatches(full.test, 64).next().value!;
    t.deepEqual(ea.x.dataSync(), eb.x.dataSync(), `${mode}: evaluation batches`);
    for (const x of [ba.x, ba.y, bb.x, bb.y, ea.x, eb.x]) x.dispose();
  }
  // The domain statistics are those of the images as the model sees them, not of the stored bytes.
  const lazyStats = normalizeDomain({ name: 'x', numClasses: 10, train: toInputShape(train, shape), val: train, test: train }, 'domain').train.normalization!;
  t.is(lazyStats.mean.length, 3);
  t.notDeepEqual(lazyStats, channelStats(train.images, 0, train.images.length, 1));
});

test('inputs the same size as or smaller than the stored images are converted once at load', (t) => {
  const d = loadMnist10k();
  const train = subset(d.train, [0, 1, 2]);
  t.is(toInputShape(train, [28, 28, 1]), train, 'same shape: the same object');
  const grey = toInputShape(train, [28, 28, 3]);
  t.is(grey.stored, undefined, 'channels only: at load');
  t.is(grey.images.length, 3 * 28 * 28 * 3);
  const small = toInputShape(train, [16, 16, 1]);
  t.is(small.stored, undefined);
  t.is(small.images.length, 3 * 16 * 16);
  // A kept set brought back to its stored shape is the stored bytes again.
  const back = toInputShape(toInputShape(train, [64, 64, 1]), [28, 28, 1]);
  t.is(back.stored, undefined);
  t.deepEqual(back.images, train.images);
});
