import test from 'ava';
import { expandSweep } from '../../src/config/sweep.js';
import { configHash, validateExperiment } from '../../src/config/load.js';

test('sweep axes expand to every combination; map values merge, another strategy starts afresh', (t) => {
  const points = expandSweep({
    name: 'x',
    adapter: { name: 'dann', weight: 1 },
    train: { steps: 10, seed: 0 },
    sweep: { adapter: [{ name: 'source' }, { name: 'dann', weight: 0.3 }], 'train.seed': [0, 1, 2] },
  });
  t.is(points.length, 6);
  t.deepEqual(points.map((p) => [(p.raw['adapter'] as Record<string, unknown>), (p.raw['train'] as Record<string, unknown>)['seed']]), [
    [{ name: 'source' }, 0],
    [{ name: 'source' }, 1],
    [{ name: 'source' }, 2],
    [{ name: 'dann', weight: 0.3 }, 0],
    [{ name: 'dann', weight: 0.3 }, 1],
    [{ name: 'dann', weight: 0.3 }, 2],
  ]);
  t.false('sweep' in points[0]!.raw);
  t.is((points[0]!.raw['train'] as Record<string, unknown>)['steps'], 10);
  t.deepEqual(points[4]!.overrides, { adapter: { name: 'dann', weight: 0.3 }, 'train.seed': 1 });
});

test('a list of grids: the combinations of each in turn, a repeated combination once', (t) => {
  const points = expandSweep({
    name: 'x',
    adapter: { name: 'source' },
    target: { dataset: 'mnist-10k', labels: 0 },
    train: { seed: 0 },
    sweep: [
      { adapter: [{ name: 'source' }, { name: 'dann' }], 'train.seed': [0, 1] },
      { adapter: [{ name: 'joint' }], 'target.labels': [10], 'train.seed': [0, 1] },
      { 'train.seed': [1] },
    ],
  });
  const describe = (p: (typeof points)[number]) => `${(p.raw['adapter'] as { name: string }).name}/${(p.raw['target'] as { labels: number }).labels}/${(p.raw['train'] as { seed: number }).seed}`;
  t.deepEqual(points.map(describe), ['source/0/0', 'source/0/1', 'dann/0/0', 'dann/0/1', 'joint/10/0', 'joint/10/1']);
  t.deepEqual(points[4]!.overrides, { adapter: { name: 'joint' }, 'target.labels': 10, 'train.seed': 0 });
});

test("config hashes of 0.2's configurations are unchanged by the train keys added since (nesterov, invGamma, power, warmup at their defaults): its sweeps still find their finished runs", (t) => {
  // Computed by dalab 0.2 (commit c882a4c) for these two configurations.
  const sgd = { name: 'h', source: { dataset: 'synth-digits' }, target: { dataset: 'mnist-10k' }, train: { steps: 800, optimizer: 'sgd', lr: 0.01, schedule: 'dann' } };
  const dann = { name: 'h', source: { dataset: 'mnist-10k' }, target: { dataset: 'usps' }, model: { backbone: 'lenet' }, adapter: { name: 'dann', weight: 1 } };
  t.is(configHash(validateExperiment(sgd, 'x.yaml')), 'c9d3e31ba140afce');
  t.is(configHash(validateExperiment(dann, 'x.yaml')), 'f045b10244d7fbb6');
  t.not(configHash(validateExperiment({ ...sgd, train: { ...sgd.train, warmup: 100 } }, 'x.yaml')), 'c9d3e31ba140afce', 'a warm-up that changes training changes the hash');
  t.not(configHash(validateExperiment({ ...sgd, train: { ...sgd.train, nesterov: true } }, 'x.yaml')), 'c9d3e31ba140afce', 'so does Nesterov momentum');
});
