import test from 'ava';
import { learningRate } from '../../src/train/schedule.js';
import { trainSchema } from '../../src/config/schema.js';

const close = (a: number, b: number) => Math.abs(a - b) < 1e-12;

test('learning-rate schedules: constant, step, cosine and DANN annealing', (t) => {
  const base = { steps: 100, lr: 0.01 };
  t.is(learningRate(trainSchema.parse({ ...base, schedule: 'constant' }), 73), 0.01);
  const step = trainSchema.parse({ ...base, schedule: 'step', stepSize: 30, gamma: 0.5 });
  t.deepEqual([0, 29, 30, 59, 60, 99].map((s) => learningRate(step, s)), [0.01, 0.01, 0.005, 0.005, 0.0025, 0.00125]);
  const cosine = trainSchema.parse({ ...base, schedule: 'cosine' });
  t.true(close(learningRate(cosine, 0), 0.01));
  t.true(close(learningRate(cosine, 50), 0.005));
  t.true(close(learningRate(cosine, 100), 0));
  const dann = trainSchema.parse({ ...base, schedule: 'dann' });
  t.true(close(learningRate(dann, 0), 0.01));
  // mu_p = mu_0 / (1 + 10 p)^0.75 at p = 0.5: 0.01 / 6^0.75.
  t.true(close(learningRate(dann, 50), 0.01 / Math.pow(6, 0.75)));
});
