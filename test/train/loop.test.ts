import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'ava';
import { FileStoreTracker } from '../../src/tracking/file-store.js';
import * as tf from '@tensorflow/tfjs';
import { createContainer } from '../../src/container.js';
import { ExperimentRunner } from '../../src/app/run-experiment.js';
import { makeSplits, makeTargetSplits } from '../../src/data/splits.js';
import { runLoop } from '../../src/train/loop.js';
import { digitnet } from '../../src/models/backbones.js';
import { sourceAdapter } from '../../adapters/source.js';
import type { ExperimentConfig } from '../../src/config/schema.js';
import { loadDataset, silentProgress, smallExperiment, useBackend, validators } from '../helpers.js';

async function trainSmall(config: ExperimentConfig, onStep?: (step: number) => void) {
  const data = loadDataset('mnist-10k', 'source.dataset');
  const source = makeSplits(data, config.model.input);
  const target = makeTargetSplits(data, config.model.input, config.target.labels, config.train.seed);
  const backbone = digitnet.build({ input: config.model.input, numClasses: 10, seed: config.train.seed });
  const adapter = sourceAdapter.configure({}, 'test').create({ backbone, numClasses: 10, targetLabels: 0, seed: config.train.seed });
  const losses = new Map<number, number>();
  const result = await runLoop(config, adapter, source, target, {
    validators,
    observer: {
      onLosses: (step, terms) => losses.set(step, terms['total']!),
      onStep: (step) => onStep?.(step),
    },
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
  const config = smallExperiment({ 'train.steps': 20, 'train.evalEvery': 10, 'select.by': 'source-val', adapter: { name: 'dann', weight: 0.5 } });
  const summary = await runner.run(await runner.prepare(config, 'test'), { backend: 'wasm', progress: silentProgress });
  t.is(summary.status, 'FINISHED');
  const runDir = path.dirname(summary.outDir);
  const read = (...parts: string[]) => fs.readFileSync(path.join(runDir, ...parts), 'utf8');
  // Params: the resolved config, flattened with dots (defaults included).
  t.is(read('params', 'adapter.name'), 'dann');
  t.is(read('params', 'adapter.weight'), '0.5');
  t.is(read('params', 'adapter.grlSpeed'), '10');
  t.is(read('params', 'train.steps'), '20');
  t.is(read('params', 'select.by'), 'source-val');
  // Tags every run logs, the report's roles included.
  t.is(read('tags', 'dalab.adapter'), 'dann');
  t.is(read('tags', 'dalab.family'), 'alignment');
  t.is(read('tags', 'dalab.target_labels'), 'optional');
  t.is(read('tags', 'dalab.benchmark'), 'mnist-10k->mnist-10k');
  t.is(read('tags', 'dalab.seed'), '0');
  t.is(read('tags', 'dalab.backend'), 'wasm');
  t.is(read('tags', 'dalab.select_by'), 'source-val');
  t.is(read('tags', 'dalab.selected_step'), String(summary.metrics['selected_step']));
  // Metrics: one loss value per step, the evaluations at 10 and 20, the final values as returned.
  const lines = (key: string) => read('metrics', key).trim().split('\n').map((l) => l.split(' '));
  t.deepEqual(lines('loss/total').map((l) => l[2]), Array.from({ length: 20 }, (_, i) => String(i + 1)));
  t.deepEqual(lines('loss/domain').length, 20);
  t.deepEqual(lines('target_test_acc').map((l) => l[2]), ['10', '20']);
  t.deepEqual(lines('select/source-val').map((l) => l[2]), ['10', '20']);
  for (const key of ['target_test_acc', 'target_test_acc_last', 'source_test_acc']) t.is(Number(lines(`final/${key}`)[0]![1]), summary.metrics[key]);
  // The selected checkpoint is the step with the best source validation accuracy.
  const sourceVal = lines('select/source-val').map(([, value, step]) => ({ step: Number(step), value: Number(value) }));
  const best = sourceVal.reduce((a, b) => (b.value > a.value ? b : a));
  t.is(summary.metrics['selected_step'], best.step);
  const testAcc = new Map(lines('target_test_acc').map(([, value, step]) => [Number(step), Number(value)]));
  t.is(summary.metrics['target_test_acc']!, testAcc.get(best.step)!);
  t.is(summary.metrics['target_test_acc_last']!, testAcc.get(20)!);
  // Checkpoint: every module of the strategy, loadable.
  for (const model of ['encoder', 'classifier', 'discriminator']) t.true(fs.existsSync(path.join(summary.outDir, 'checkpoint', model, 'model.json')), model);
  const tracker = new FileStoreTracker(config.tracking.uri!);
  t.is(await tracker.checkpointOf(summary.runId), path.join(summary.outDir, 'checkpoint'));
  t.is(await tracker.checkpointOf('0'.repeat(32)), null);
});
