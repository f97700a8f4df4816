/**
 * Phases made of named sub-steps (MCD, ADDA): each sub-step updates only its own variable groups
 * with its own terms, `repeat` times; groups with one key share one optimiser across sub-steps;
 * terms are logged as `<sub-step>/<term>` (the mean over repetitions); the total sums the sub-steps.
 */
import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { Stepper } from '../../src/train/step.js';
import { trainSchema } from '../../src/config/schema.js';
import type { SubStepPhase } from '../../src/train/adapter.js';
import type { ImageSet } from '../../src/data/types.js';
import { createContainer } from '../../src/container.js';
import { ExperimentRunner } from '../../src/app/run-experiment.js';
import { digitnet } from '../../src/models/backbones.js';
import { useBackend } from '../helpers.js';

function images(count: number): ImageSet {
  const data = new Uint8Array(count * 28 * 28);
  for (let i = 0; i < data.length; i++) data[i] = (i * 17) % 256;
  return { images: data, labels: Int32Array.from({ length: count }, (_, i) => i % 10), count, height: 28, width: 28, channels: 1 };
}

test.serial('sub-steps: own variables, repeats, a shared optimiser by key, terms per sub-step (plain SGD, by hand)', async (t) => {
  await useBackend('wasm');
  const a = tf.variable(tf.scalar(2), true, 'sub_a');
  const b = tf.variable(tf.scalar(3), true, 'sub_b');
  const lr = 0.1;
  // SGD with momentum 0: w <- w - lr * grad. Sub-step "first" moves a (loss a^2); "second" moves b
  // three times (loss (b - 1)^2); "third" moves a again (loss a^2 + b^2: b is not in its group).
  const phase: SubStepPhase = {
    name: 'test',
    steps: 1,
    needs: { source: true, targetUnlabelled: false, targetLabels: 'never' },
    evaluate: false,
    subSteps: [
      { name: 'first', variableGroups: () => [{ key: 'a', variables: [a], lrScale: 1 }], loss: () => ({ sq: tf.square(a) as tf.Scalar }), weights: () => ({}) },
      { name: 'second', repeat: 3, variableGroups: () => [{ variables: [b], lrScale: 1 }], loss: () => ({ sq: tf.square(tf.sub(b, 1)) as tf.Scalar }), weights: () => ({}) },
      { name: 'third', variableGroups: () => [{ key: 'a', variables: [a], lrScale: 1 }], loss: () => ({ sq: tf.square(a) as tf.Scalar, other: tf.square(b) as tf.Scalar }), weights: () => ({ other: 2 }) },
    ],
  };
  const train = trainSchema.parse({ steps: 1, batchSize: 2, optimizer: 'sgd', momentum: 0, lr, seed: 0, augment: false });
  const stepper = new Stepper(train, phase, { source: images(4), targetPool: images(4), targetLabelled: images(0) }, 10);
  const { total, terms } = stepper.step(1);
  // a: 2 -> 2 - 0.1*4 = 1.6 (first) -> 1.6 - 0.1*3.2 = 1.28 (third)
  t.true(Math.abs(a.dataSync()[0]! - 1.28) < 1e-6, `a = ${a.dataSync()[0]}`);
  // b: 3 -> 2.6 -> 2.28 -> 2.024 (three updates of (b-1)^2 only; "third" does not move it)
  t.true(Math.abs(b.dataSync()[0]! - 2.024) < 1e-6, `b = ${b.dataSync()[0]}`);
  t.deepEqual(Object.keys(terms).sort(), ['first/sq', 'second/sq', 'third/other', 'third/sq']);
  const read = (k: string) => terms[k]!.dataSync()[0]!;
  t.true(Math.abs(read('first/sq') - 4) < 1e-6);
  // The mean over the three repetitions: ((3-1)^2 + (2.6-1)^2 + (2.28-1)^2) / 3
  t.true(Math.abs(read('second/sq') - (4 + 2.56 + 1.6384) / 3) < 1e-5, `second/sq = ${read('second/sq')}`);
  t.true(Math.abs(read('third/sq') - 1.6 * 1.6) < 1e-5);
  t.true(Math.abs(read('third/other') - 2.024 * 2.024) < 1e-5);
  // total = first + mean(second) + third (weighted: other x 2)
  const expected = 4 + (4 + 2.56 + 1.6384) / 3 + (2.56 + 2 * 2.024 * 2.024);
  t.true(Math.abs(total.dataSync()[0]! - expected) < 1e-4, `total ${total.dataSync()[0]} vs ${expected}`);
  // One optimiser per key: "a" once, "second"'s own group once.
  t.is(stepper.saveState().optimizers.length, 2);
  tf.dispose([total, ...Object.values(terms), a, b]);
  stepper.dispose();
});

test.serial('mcd: the maximise sub-step moves only the two classifiers, the minimise sub-step only the encoder', async (t) => {
  await useBackend('wasm');
  const factory = createContainer().get(ExperimentRunner).adapterFactories().find((f) => f.name === 'mcd')!;
  const backbone = digitnet.build({ input: [28, 28, 1], numClasses: 10, seed: 0 });
  const adapter = factory.configure({ numK: 2 }, 'test').create({ backbone, numClasses: 10, targetLabels: 0, seed: 0 });
  const phase = adapter.phases(10)[0]!;
  if (phase.subSteps == null) return t.fail('mcd has no sub-steps');
  t.deepEqual(phase.subSteps.map((s) => [s.name, s.repeat ?? 1]), [['source', 1], ['maximise', 1], ['minimise', 2]]);
  const models = adapter.checkpointModels();
  const names = (m: tf.LayersModel) => m.trainableWeights.map((w) => (w.read() as tf.Variable).name).sort();
  const groupNames = (i: number) => phase.subSteps[i]!.variableGroups().flatMap((g) => g.variables.map((v) => v.name)).sort();
  t.deepEqual(groupNames(1), [...names(models['classifier']!), ...names(models['classifier2']!)].sort());
  t.deepEqual(groupNames(2), names(models['encoder']!));
  t.deepEqual(groupNames(0), [...names(models['encoder']!), ...names(models['classifier']!), ...names(models['classifier2']!)].sort());
  t.is(phase.subSteps[1]!.weights(0)['discrepancy'], -1, 'the classifiers maximise the discrepancy');
  t.is(phase.subSteps[2]!.weights(0)['discrepancy'], 1, 'the encoder minimises it');
  const train = trainSchema.parse({ steps: 10, batchSize: 4, seed: 0 });
  const stepper = new Stepper(train, phase, { source: images(8), targetPool: images(8), targetLabelled: images(0) }, 10);
  const { total, terms } = stepper.step(1);
  t.deepEqual(Object.keys(terms).sort(), ['maximise/cls', 'maximise/cls2', 'maximise/discrepancy', 'minimise/discrepancy', 'source/cls', 'source/cls2']);
  // Two optimisers (generator, classifiers), shared by the three sub-steps.
  t.is(stepper.saveState().optimizers.length, 2);
  tf.dispose([total, ...Object.values(terms)]);
  stepper.dispose();
  adapter.dispose();
});
