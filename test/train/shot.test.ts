/**
 * shot: source-free after its source phase (the count comes from the stepper, where batches are
 * drawn), a weight-normalised hypothesis that stays frozen, SHOT's centroid pseudo-labels.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { createContainer } from '../../src/container.js';
import { ExperimentRunner } from '../../src/app/run-experiment.js';
import { centroidLabels } from '../../adapters/shot.js';
import { WeightNormDense } from '../../src/models/weight-norm.js';
import { fileLoadHandler, fileSaveHandler } from '../../src/models/checkpoint.js';
import { digitnet } from '../../src/models/backbones.js';
import { Stepper, beginPhasesTakeLast } from '../../src/train/step.js';
import { trainSchema } from '../../src/config/schema.js';
import { imagesOf } from '../../src/data/batches.js';
import type { ImageSet } from '../../src/data/types.js';
import { silentProgress, smallExperiment, tempDir, useBackend } from '../helpers.js';

function images(count: number): ImageSet {
  const data = new Uint8Array(count * 28 * 28);
  for (let i = 0; i < data.length; i++) data[i] = (i * 29 + (i % 7) * 11) % 256;
  return { images: data, labels: Int32Array.from({ length: count }, (_, i) => i % 10), count, height: 28, width: 28, channels: 1 };
}

const metric = (runDir: string, key: string) => fs.readFileSync(path.join(runDir, 'metrics', key), 'utf8').trim().split('\n').map((l) => Number(l.split(' ')[1]));

test.serial('shot: the run logs source_batches_after_source_phase 0; a strategy that is not source-free logs no such metric', async (t) => {
  await useBackend('wasm');
  const runner = createContainer().get(ExperimentRunner);
  const shot = await runner.run(await runner.prepare(smallExperiment({ 'train.steps': 6, adapter: { name: 'shot', pretrainSteps: 4, refreshes: 2 } }), 'test'), { backend: 'wasm', progress: silentProgress });
  t.is(shot.status, 'FINISHED');
  const shotDir = path.dirname(shot.outDir);
  t.deepEqual(metric(shotDir, 'source_batches_after_source_phase'), [0]);
  // The source phase ran (4 steps of label-smoothed CE), then 6 of adaptation: IM + pseudo-labels.
  t.is(metric(shotDir, 'loss/cls').length, 4);
  t.is(metric(shotDir, 'loss/im').length, 6);
  t.is(metric(shotDir, 'loss/pseudo').length, 6);
  // The control: a strategy that reads the source in its adaptation logs no such metric.
  const dann = await runner.run(await runner.prepare(smallExperiment({ 'train.steps': 2, adapter: { name: 'dann' } }), 'test'), { backend: 'wasm', progress: silentProgress });
  t.false(fs.existsSync(path.join(path.dirname(dann.outDir), 'metrics', 'source_batches_after_source_phase')));
});

test.serial('shot: the hypothesis (weight-normalised) stays frozen in adaptation; the encoder and bottleneck train', async (t) => {
  await useBackend('wasm');
  const factory = createContainer().get(ExperimentRunner).adapterFactories().find((f) => f.name === 'shot')!;
  const backbone = digitnet.build({ input: [28, 28, 1], numClasses: 10, seed: 0 });
  const pool = images(16);
  const targetPool = { count: pool.count, batches: (size: number) => imagesOf(pool, size) };
  const adapter = factory.configure({}, 'test').create({ backbone, numClasses: 10, targetLabels: 0, seed: 0, targetPool });
  const train = trainSchema.parse({ steps: 4, batchSize: 4, seed: 0 });
  const phase = beginPhasesTakeLast(adapter, train);
  t.is(phase.name, 'adapt');
  t.false(phase.needs.source, 'the adaptation phase draws no source batch');
  const classifier = adapter.checkpointModels()['classifier']!;
  const hypothesis = classifier.layers.find((l) => l instanceof WeightNormDense)!;
  t.truthy(hypothesis, classifier.layers.map((l) => l.getClassName()).join(', '));
  const before = (layer: tf.layers.Layer) => layer.getWeights().map((w) => Array.from(w.dataSync()));
  const hyp0 = before(hypothesis);
  const bottleneck0 = before(classifier.getLayer('shot_bottleneck'));
  const stepper = new Stepper(train, phase, { source: images(8), targetPool: pool, targetLabelled: images(0) }, 10);
  for (let s = 1; s <= 3; s++) {
    const out = stepper.step(s);
    tf.dispose([out.total, ...Object.values(out.terms)]);
  }
  t.deepEqual(before(hypothesis), hyp0, 'the hypothesis is frozen');
  t.notDeepEqual(before(classifier.getLayer('shot_bottleneck')), bottleneck0, 'the bottleneck trains');
  t.is(stepper.sourceBatches, 0);
  stepper.dispose();
  adapter.dispose();
  // The count is real: dann's stepper draws a source batch every step.
  const dann = createContainer().get(ExperimentRunner).adapterFactories().find((f) => f.name === 'dann')!.configure({}, 'test').create({ backbone: digitnet.build({ input: [28, 28, 1], numClasses: 10, seed: 0 }), numClasses: 10, targetLabels: 0, seed: 0 });
  const dannStepper = new Stepper(train, beginPhasesTakeLast(dann, train), { source: images(8), targetPool: pool, targetLabelled: images(0) }, 10);
  for (let s = 1; s <= 3; s++) {
    const out = dannStepper.step(s);
    tf.dispose([out.total, ...Object.values(out.terms), ...Object.values(out.monitors)]);
  }
  t.is(dannStepper.sourceBatches, 3);
  dannStepper.dispose();
  dann.dispose();
});

test('WeightNormDense: w = g v / ||v|| per output unit, starting as the dense layer v; saves and loads', async (t) => {
  await useBackend('wasm');
  const layer = new WeightNormDense({ units: 3, name: 'wn', seed: 1 });
  const input = tf.input({ shape: [4] });
  const model = tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor });
  const [v, g, bias] = model.getWeights();
  // g starts at the column norms of v: the layer starts as x v + b.
  const norms = tf.norm(v!, 'euclidean', 0);
  t.true(tf.max(tf.abs(tf.sub(g!, norms))).dataSync()[0]! < 1e-6);
  const x = tf.tensor2d([[1, 2, 3, 4], [0.5, -1, 0, 2]]);
  t.true(tf.max(tf.abs(tf.sub(model.predict(x) as tf.Tensor, tf.add(tf.matMul(x, v!), bias!)))).dataSync()[0]! < 1e-5);
  // Scaling g scales each unit's weight vector.
  model.setWeights([v!, tf.tensor1d([1, 2, 3]), bias!]);
  const w = tf.mul(tf.div(v!, norms), tf.tensor1d([1, 2, 3]));
  t.true(tf.max(tf.abs(tf.sub(model.predict(x) as tf.Tensor, tf.matMul(x, w)))).dataSync()[0]! < 1e-5);
  const dir = tempDir();
  await model.save(fileSaveHandler(dir));
  const loaded = await tf.loadLayersModel(fileLoadHandler(dir));
  t.true(tf.max(tf.abs(tf.sub(loaded.predict(x) as tf.Tensor, model.predict(x) as tf.Tensor))).dataSync()[0]! < 1e-6);
});

test('centroidLabels: SHOT obtain_label on separable clusters with weak predictions recovers the clusters', (t) => {
  // Three clusters in 2-D; the predictions are right for most images of each cluster but uniform-ish noise on the rest.
  const centres = [[5, 0], [0, 5], [-5, -5]];
  const n = 60;
  const features = new Float32Array(n * 2);
  const probs = new Float32Array(n * 3);
  const truth: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    truth.push(c);
    features[i * 2] = centres[c]![0]! + Math.sin(i) * 0.5;
    features[i * 2 + 1] = centres[c]![1]! + Math.cos(i) * 0.5;
    // Every fourth image is predicted wrongly (confidently, as the next class).
    const predicted = i % 4 === 0 ? (c + 1) % 3 : c;
    for (let k = 0; k < 3; k++) probs[i * 3 + k] = k === predicted ? 0.8 : 0.1;
  }
  const labels = centroidLabels(features, probs, n, 2, 3, 0);
  const accuracy = truth.filter((c, i) => labels[i] === c).length / n;
  t.is(accuracy, 1, `labels ${Array.from(labels).join('')}`);
  // The predictions alone are 75% right: the clustering corrects them.
  t.true(truth.filter((c, i) => (i % 4 === 0 ? (c + 1) % 3 : c) === c).length / n < 0.8);
});
