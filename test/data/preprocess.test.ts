import test from 'ava';
import { toInputShape } from '../../src/data/preprocess.js';
import { stratifiedSample } from '../../src/data/splits.js';
import { loadMnist10k } from '../../src/data/mnist10k.js';

test('bilinear resize keeps constant images constant and grey -> RGB copies the channel', (t) => {
  const set = { images: new Uint8Array(16 * 16).fill(200), labels: Int32Array.from([1]), count: 1, height: 16, width: 16, channels: 1 };
  const out = toInputShape(set, [28, 28, 3]);
  t.is(out.images.length, 28 * 28 * 3);
  t.true(out.images.every((v) => v === 200));
});

test('RGB -> grey uses BT.601 luma; resize interpolates between pixels', (t) => {
  const rgb = { images: Uint8Array.from([255, 0, 0, 0, 0, 255]), labels: Int32Array.from([0]), count: 1, height: 1, width: 2, channels: 3 };
  t.deepEqual(Array.from(toInputShape(rgb, [1, 2, 1]).images), [76, 29]);
  const ramp = { images: Uint8Array.from([0, 100]), labels: Int32Array.from([0]), count: 1, height: 1, width: 2, channels: 1 };
  // Half-pixel centres: 4 outputs sample x = -0.25 (clamped 0), 0.25, 0.75, 1.25 (clamped 1).
  t.deepEqual(Array.from(toInputShape(ramp, [1, 4, 1]).images), [0, 25, 75, 100]);
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
