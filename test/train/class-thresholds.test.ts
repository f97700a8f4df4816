/** Per-class confidence thresholds (FlexMatch's curriculum) shared by selftrain (balanced) and distill (classThresholds). */
import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { createContainer } from '../../src/container.js';
import { ExperimentRunner } from '../../src/app/run-experiment.js';
import { digitnet } from '../../src/models/backbones.js';
import { ClassThresholds } from '../../src/train/class-thresholds.js';
import { distillationLoss } from '../../src/losses/distillation.js';
import { useBackend } from '../helpers.js';

const close = (t: import('ava').ExecutionContext, actual: ArrayLike<number>, expected: number[], what: string) => {
  t.is(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++) t.true(Math.abs(actual[i]! - expected[i]!) < 1e-6, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
};

test.serial('ClassThresholds: tau_c = threshold * beta_c / (2 - beta_c), beta_c = n_c / max n; counts only confident labels; state round trip', async (t) => {
  await useBackend('wasm');
  const th = new ClassThresholds(3, 0.9);
  const labels = (v: number[]) => tf.tensor1d(v, 'int32');
  close(t, th.perImage(labels([0, 1, 2])).dataSync(), [0, 0, 0], 'no counts yet');
  th.count(labels([0, 0, 1]), tf.tensor1d([1, 1, 0]));
  t.deepEqual(th.state(), [2, 0, 0]);
  close(t, th.perImage(labels([0, 1, 2, 0])).dataSync(), [0.9, 0, 0, 0.9], 'class 0 is the most counted');
  th.count(labels([1, 2]), tf.tensor1d([1, 0]));
  // beta = [1, 0.5, 0]: tau = [0.9, 0.9 * 0.5 / 1.5, 0]
  close(t, th.perImage(labels([0, 1, 2])).dataSync(), [0.9, 0.3, 0], 'beta 0.5');
  const copy = new ClassThresholds(3, 0.9);
  copy.load(th.state());
  close(t, copy.perImage(labels([1])).dataSync(), [0.3], 'loaded');
  th.dispose();
  copy.dispose();
});

test.serial('distillationLoss takes one threshold per image: only images at or above their own threshold count', async (t) => {
  await useBackend('wasm');
  const student = tf.tensor2d([[1, 0, 0], [0, 2, 0], [0, 0, 3]]);
  const teacher = tf.tensor2d([[4, 0, 0], [0, 1, 0], [0, 0, 2]]);
  const conf = tf.max(tf.softmax(teacher), 1).dataSync();
  // Image 0 passes its threshold, image 1 does not, image 2 exactly at it.
  const threshold = tf.tensor1d([conf[0]! - 0.01, conf[1]! + 0.01, conf[2]!]);
  const perSample = tf.neg(tf.sum(tf.mul(tf.softmax(teacher), tf.logSoftmax(student)), 1)).dataSync();
  const expected = (perSample[0]! + perSample[2]!) / 3;
  close(t, distillationLoss(student, teacher, 1, threshold).dataSync(), [expected], 'per-image thresholds');
  close(t, distillationLoss(student, teacher, 1, 0).dataSync(), [(perSample[0]! + perSample[1]! + perSample[2]!) / 3], 'threshold 0');
});

test.serial('distill classThresholds: the teacher pseudo-labels pick per-image thresholds, the counts grow and are resume state; off with false', async (t) => {
  await useBackend('wasm');
  const factory = createContainer().get(ExperimentRunner).adapterFactories().find((f) => f.name === 'distill')!;
  const source = { x: tf.randomUniform([8, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D, y: tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32'), 10) as tf.Tensor2D };
  const target = tf.randomUniform([8, 28, 28, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
  for (const on of [true, false]) {
    const adapter = factory.configure({ classThresholds: on }, 'test').create({ backbone: digitnet.build({ input: [28, 28, 1], numClasses: 10, seed: 0 }), numClasses: 10, targetLabels: 0, seed: 0 });
    const phase = adapter.phases(10).at(-1)!;
    if (phase.subSteps != null) return t.fail('distill has no sub-steps');
    phase.begin?.();
    const first = phase.prepare!({ source, target }, 0.5);
    t.is('threshold' in first, on);
    const state = adapter.saveState!() as { counts?: number[] };
    if (!on) {
      t.is(state.counts, undefined);
      adapter.dispose();
      continue;
    }
    // At the start no class has a count: every threshold is 0, so all 8 pseudo-labels are counted.
    close(t, (first['threshold'] as tf.Tensor).dataSync(), new Array(8).fill(0), 'first thresholds');
    t.is(state.counts!.reduce((a, b) => a + b, 0), 8);
    const terms = phase.loss({ source, target, prepared: first }, 0.5, () => undefined);
    t.true(Number.isFinite(terms['distill']!.dataSync()[0]!));
    const second = phase.prepare!({ source, target }, 0.6);
    const most = Math.max(...state.counts!);
    t.true((second['threshold'] as tf.Tensor).dataSync().some((v) => v > 0), 'thresholds rise once counts exist');
    t.true((second['threshold'] as tf.Tensor).dataSync().every((v) => v <= 0.9 + 1e-6), `at most the threshold (max count ${most})`);
    adapter.loadState!({ step: 0, counts: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0] });
    t.deepEqual((adapter.saveState!() as { counts: number[] }).counts, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    adapter.dispose();
  }
});
