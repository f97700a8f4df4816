import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { createContainer } from '../../src/container.js';
import { ExperimentRunner } from '../../src/app/run-experiment.js';
import { loadDataset } from '../../src/data/datasets.js';
import { makeSplits, makeTargetSplits } from '../../src/data/splits.js';
import { runLoop } from '../../src/train/loop.js';
import { digitnet } from '../../src/models/backbones.js';
import { sourceAdapter } from '../../adapters/source.js';
import type { ExperimentConfig } from '../../src/config/schema.js';
import { silentProgress, smallExperiment, useBackend } from '../helpers.js';

async function trainSmall(config: ExperimentConfig, onStep?: (step: number) => void) {
  const data = loadDataset('mnist-10k', 'source.dataset');
  const source = makeSplits(data, config.model.input);
  const target = makeTargetSplits(data, config.model.input, config.target.labels, config.train.seed);
  const backbone = digitnet.build({ input: config.model.input, numClasses: 10, seed: config.train.seed });
  const adapter = sourceAdapter.create({ backbone, numClasses: 10, targetLabels: 0, seed: config.train.seed }, {});
  const losses = new Map<number, number>();
  const result = await runLoop(config, adapter, source, target, {
    onLosses: (step, terms) => losses.set(step, terms['total']!),
    onStep: (step) => onStep?.(step),
  });
  adapter.dispose();
  return { result, losses };
}

test.serial('training reduces the loss: mean of steps 41-50 below 0.7 x mean of steps 1-10', async (t) => {
  await useBackend('wasm');
  const { losses } = await trainSmall(smallExperiment({ 'train.steps': 50 }));
  const mean = (from: number, to: number) => {
    let sum = 0;
    for (let s = from; s <= to; s++) sum += losses.get(s)!;
    return sum / (to - from + 1);
  };
  t.is(losses.size, 50);
  t.true(mean(41, 50) < 0.7 * mean(1, 10), `first ${mean(1, 10).toFixed(3)}, last ${mean(41, 50).toFixed(3)}`);
});

test.serial('no tensor leak: tf.memory().numTensors is the same after step 10 and step 60', async (t) => {
  await useBackend('wasm');
  const counts = new Map<number, number>();
  await trainSmall(smallExperiment({ 'train.steps': 70 }), (step) => {
    if (step === 10 || step === 60) counts.set(step, tf.memory().numTensors);
  });
  t.is(counts.size, 2);
  t.is(counts.get(60), counts.get(10));
});

test.serial('two runs with the same seed on wasm give identical metrics and losses', async (t) => {
  await useBackend('wasm');
  const config = smallExperiment({ 'train.steps': 25, 'train.evalEvery': 10, 'select.by': 'source-val' });
  const a = await trainSmall(config);
  const b = await trainSmall(config);
  t.deepEqual(a.result.last, b.result.last);
  t.deepEqual(a.result.selected, b.result.selected);
  t.deepEqual([...a.losses.values()], [...b.losses.values()]);
  const c = await trainSmall(smallExperiment({ 'train.steps': 25, 'train.evalEvery': 10, 'train.seed': 1 }));
  t.notDeepEqual([...a.losses.values()], [...c.losses.values()], 'another seed gives another run');
});

test.serial('the runner tracks a whole run: params, tags, metrics, checkpoint', async (t) => {
  await useBackend('wasm');
  const runner = createContainer().get(ExperimentRunner);
  const config = smallExperiment({ 'train.steps': 20, 'train.evalEvery': 10 });
  const summary = await runner.run(config, { backend: 'wasm', progress: silentProgress });
  t.is(summary.status, 'FINISHED');
  t.true(summary.metrics['target_test_acc']! >= 0 && summary.metrics['target_test_acc']! <= 1);
  t.is(summary.metrics['target_test_acc'], summary.metrics['target_test_acc_last']);
});

test.serial('train.augment changes training (and stays deterministic for a seed)', async (t) => {
  await useBackend('wasm');
  const plain = await trainSmall(smallExperiment({ 'train.steps': 20 }));
  const a = await trainSmall(smallExperiment({ 'train.steps': 20, 'train.augment': true }));
  const b = await trainSmall(smallExperiment({ 'train.steps': 20, 'train.augment': { shift: 2, noise: 0.05 } }));
  t.deepEqual([...a.losses], [...b.losses]);
  t.notDeepEqual([...a.losses], [...plain.losses]);
});
