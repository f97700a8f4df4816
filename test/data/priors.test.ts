/** target.priors: the target pool and test split subsampled to given class proportions (label shift). */
import test from 'ava';
import { priorSubsample, makeTargetSplits } from '../../src/data/splits.js';
import { UserError } from '../../src/messages.js';
import { loadDataset } from '../helpers.js';

test('priorSubsample: the largest subsample with the given proportions, deterministic per seed', (t) => {
  // 100 images of class 0, 50 of class 1, 200 of class 2.
  const labels = Int32Array.from([...Array(100).fill(0), ...Array(50).fill(1), ...Array(200).fill(2)]);
  const chosen = priorSubsample(labels, [0.5, 0.1, 0.4], 's');
  const count = (k: number) => chosen.filter((i) => labels[i] === k).length;
  // m = min(100 / 0.5, 50 / 0.1, 200 / 0.4) = 200: 100, 20, 80.
  t.deepEqual([count(0), count(1), count(2)], [100, 20, 80]);
  t.deepEqual(priorSubsample(labels, [5, 1, 4], 's'), chosen, 'proportions are normalised');
  t.deepEqual(priorSubsample(labels, [0.5, 0.1, 0.4], 's'), chosen, 'deterministic');
  t.notDeepEqual(priorSubsample(labels, [0.5, 0.1, 0.4], 'other'), chosen, 'another seed, another draw');
  t.is(new Set(chosen).size, chosen.length, 'no image twice');
  // A zero proportion drops the class.
  const none = priorSubsample(labels, [1, 0, 1], 's');
  t.false(none.some((i) => labels[i] === 1));
  t.is(none.length, 200);
});

test('makeTargetSplits with priors: pool and test follow the proportions, val is untouched; a wrong length is a UserError', (t) => {
  const data = loadDataset('mnist-10k');
  const priors = [0.3, 0.3, 0.1, 0.05, 0.05, 0.05, 0.05, 0.04, 0.03, 0.03];
  const plain = makeTargetSplits(data, [28, 28, 1], 0, 0);
  const shifted = makeTargetSplits(data, [28, 28, 1], 0, 0, priors);
  for (const split of ['train', 'test'] as const) {
    const set = shifted[split];
    const counts = Array.from({ length: 10 }, (_, k) => set.labels.filter((y) => y === k).length);
    counts.forEach((c, k) => t.true(Math.abs(c / set.count - priors[k]!) < 0.01, `${split} class ${k}: ${c}/${set.count}`));
    t.true(set.count < plain[split].count);
  }
  t.is(shifted.val.count, plain.val.count);
  t.throws(() => makeTargetSplits(data, [28, 28, 1], 0, 0, [0.5, 0.5]), { instanceOf: UserError, message: /target\.priors: 2 proportions for 10 classes/ });
});
