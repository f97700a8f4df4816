/**
 * `mnist-m` (src/data/mnistm.ts): MNIST-M's construction over dalab's procedural textures. The same
 * bytes on every machine (golden hashes), every image is its mnist-10k digit blended (not a copy)
 * with the digit's label, and a real domain gap: a network trained on mnist-10k loses at least 15
 * points of accuracy on it.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import test from 'ava';
import { loadMnistM } from '../../src/data/mnistm.js';
import { loadMnist10k } from '../../src/data/mnist10k.js';
import { ROOT, dalab, tempDir } from '../helpers.js';

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

test('mnist-m renders the same bytes on every machine (golden hashes), mnist-10k\'s splits and labels', (t) => {
  const m = loadMnistM();
  const mnist = loadMnist10k();
  const golden = {
    train: 'f482ac2c041c6d6bf5411a841474a4a8fb17e788e1c975750a9faa82d6390570',
    val: 'de22e5a177471265ae9ff3004567a17a13c6e9251cf0c80e5bad816befaa62fa',
    test: '4134421b4b21d181432e07a24fbd9cce6d0590e8618a28797f198d6652dc651c',
  };
  for (const split of ['train', 'val', 'test'] as const) {
    const set = m[split]!;
    const digits = mnist[split]!;
    t.deepEqual([set.count, set.height, set.width, set.channels], [digits.count, 28, 28, 3], split);
    t.is(sha(set.images), golden[split], `${split}: golden hash`);
    t.deepEqual(set.labels, digits.labels, `${split}: each image carries its digit's label`);
    // Every image is the digit blended over a texture: the stroke pixels keep |patch - 255|, the
    // background the patch itself, so it is never the digit's own grey image.
    const pixels = 28 * 28;
    let identical = 0;
    for (let i = 0; i < set.count; i++) {
      let diff = 0;
      for (let p = 0; p < pixels; p++) for (let c = 0; c < 3; c++) diff += Math.abs(set.images[(i * pixels + p) * 3 + c]! - digits.images[i * pixels + p]!);
      if (diff / (3 * pixels) < 10) identical++;
    }
    t.is(identical, 0, `${split}: images within 10 grey levels of their digit`);
  }
  t.is(sha(loadMnistM().test.images), golden.test, 'a second load renders the same bytes');
});

test('mnist-m is a real domain gap: source-only on mnist-10k loses at least 15 points on it', (t) => {
  const store = tempDir('dalab-mnistm-');
  const r = dalab(['run', path.join(ROOT, 'experiments/quickstart.yaml'), '--set', 'source.dataset=mnist-10k', '--set', 'target.dataset=mnist-m', '--set', 'adapter.name=source', '--set', 'model.input=[28,28,3]', '--set', 'train.steps=300', '--set', `tracking.uri=file:${store}`, '--json']);
  t.is(r.status, 0, r.stderr);
  const { metrics } = JSON.parse(r.stdout.trim().split('\n').pop()!) as { metrics: { source_test_acc: number; target_test_acc: number } };
  t.log(`mnist-10k test ${(100 * metrics.source_test_acc).toFixed(1)}%, mnist-m test ${(100 * metrics.target_test_acc).toFixed(1)}%`);
  t.true(metrics.source_test_acc > 0.9, `source accuracy ${metrics.source_test_acc}`);
  t.true(metrics.source_test_acc - metrics.target_test_acc >= 0.15, `gap ${metrics.source_test_acc - metrics.target_test_acc}`);
});
