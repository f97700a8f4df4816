/**
 * What the published recipes need (issue 35): the digit-adaptation papers' LeNet (`lenet-da`), a
 * dropout that draws a new mask at every call, the inv learning-rate schedule, MCD's MLP
 * classifiers, and the warm-up in which no target term acts.
 */
import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { Stepper } from '../../src/train/step.js';
import { learningRate } from '../../src/train/schedule.js';
import { trainSchema } from '../../src/config/schema.js';
import type { ImageSet } from '../../src/data/types.js';
import { createContainer } from '../../src/container.js';
import { ExperimentRunner } from '../../src/app/run-experiment.js';
import { lenetDa } from '../../src/models/lenet-da.js';
import { SeededDropout } from '../../src/models/builder.js';
import { useBackend } from '../helpers.js';

function images(count: number): ImageSet {
  const data = new Uint8Array(count * 28 * 28);
  for (let i = 0; i < data.length; i++) data[i] = (i * 17) % 256;
  return { images: data, labels: Int32Array.from({ length: count }, (_, i) => i % 10), count, height: 28, width: 28, channels: 1 };
}

const params = (m: tf.LayersModel) => m.trainableWeights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
const factory = (name: string) => createContainer().get(ExperimentRunner).adapterFactories().find((f) => f.name === name)!;

test.serial('lenet-da: the papers LeNet (20/50 channels, fc500) and Transfer-Learning-Library bottleneck, parameter counts by hand', async (t) => {
  await useBackend('wasm');
  const b = lenetDa.configure({}, 'test').build({ input: [28, 28, 1], numClasses: 10, seed: 0 });
  t.deepEqual(b.encoder.outputs[0]!.shape, [null, 256]);
  // conv1 20*25+20, conv2 50*20*25+50, fc3 800*500+500, bottleneck 500*256+256 + BN gamma/beta 2*256.
  t.is(params(b.encoder), 520 + 25_050 + 400_500 + 128_256 + 512);
  t.is(params(b.classifier), 256 * 10 + 10);
  t.deepEqual(b.blocks.map((x) => x.name), ['conv1', 'conv2', 'fc3', 'bottleneck']);
  const plain = lenetDa.configure({ bottleneck: 0 }, 'test').build({ input: [28, 28, 1], numClasses: 10, seed: 0 });
  t.deepEqual(plain.encoder.outputs[0]!.shape, [null, 500]);
  const convOnly = lenetDa.configure({ fc: 0, bottleneck: 0 }, 'test').build({ input: [28, 28, 1], numClasses: 10, seed: 0 });
  t.deepEqual(convOnly.encoder.outputs[0]!.shape, [null, 800]);
  const dan = lenetDa.configure({ bottleneckKind: 'dropout' }, 'test').build({ input: [28, 28, 1], numClasses: 10, seed: 0 });
  t.is(params(dan.encoder), 520 + 25_050 + 400_500 + 128_256);
  t.throws(() => lenetDa.configure({ bottleneck: -1 }, 'x.yaml'), { message: /model\.backbone\.bottleneck/ });
  tf.dispose([b.encoder, b.classifier, plain.encoder, plain.classifier, convOnly.encoder, convOnly.classifier, dan.encoder, dan.classifier].flatMap((m) => m.weights.map((w) => w.read())));
});

test.serial("SeededDropout: a new mask at every training call (tfjs's seeded dropout repeats one), the same masks from the same seed, identity in inference; spatial drops whole channels", async (t) => {
  await useBackend('wasm');
  const x = tf.ones([4, 64]);
  const masks = (layer: SeededDropout, n: number) => Array.from({ length: n }, () => Array.from((layer.apply(x, { training: true }) as tf.Tensor).dataSync()).join(','));
  const a = masks(new SeededDropout({ rate: 0.5, seed: 7 }), 3);
  t.is(new Set(a).size, 3, 'three calls, three masks');
  t.deepEqual(masks(new SeededDropout({ rate: 0.5, seed: 7 }), 3), a, 'reproducible from the seed');
  t.deepEqual(Array.from((new SeededDropout({ rate: 0.5, seed: 7 }).apply(x, { training: false }) as tf.Tensor).dataSync()), Array.from(x.dataSync()));
  const maps = tf.ones([2, 3, 3, 8]);
  const out = (new SeededDropout({ rate: 0.5, seed: 1, noiseShape: [null, 1, 1, null] }).apply(maps, { training: true }) as tf.Tensor).arraySync() as number[][][][];
  for (const image of out) for (let c = 0; c < 8; c++) t.is(new Set(image.flatMap((row) => row.map((px) => px[c]))).size, 1, 'a channel is kept or dropped whole');
  // The unseeded alternative tfjs offers would not be reproducible; tfjs's seeded layer repeats its mask:
  const fixed = tf.layers.dropout({ rate: 0.5, seed: 7 });
  const f = Array.from({ length: 2 }, () => Array.from((fixed.apply(x, { training: true }) as tf.Tensor).dataSync()).join(','));
  t.is(f[0], f[1], "tfjs's seeded dropout: one mask for every call (why SeededDropout exists)");
});

test('schedule inv: lr (1 + gamma iteration)^-power by iteration (Caffe, Transfer-Learning-Library)', (t) => {
  const train = trainSchema.parse({ lr: 0.01, schedule: 'inv', steps: 100 });
  t.is(learningRate(train, 0), 0.01);
  t.true(Math.abs(learningRate(train, 1000) - 0.01 * Math.pow(2, -0.75)) < 1e-12);
  const other = trainSchema.parse({ lr: 0.1, schedule: 'inv', invGamma: 0.0003, power: 0.5, steps: 100 });
  t.true(Math.abs(learningRate(other, 2500) - 0.1 / Math.sqrt(1.75)) < 1e-12);
});

test.serial("mcd hidden: MLP classifiers (Dropout, Linear, BN, ReLU per hidden layer, then Linear) replace both heads; the sub-steps' variables stay split", async (t) => {
  await useBackend('wasm');
  const backbone = lenetDa.configure({ bottleneck: 0 }, 'test').build({ input: [28, 28, 1], numClasses: 10, seed: 0 });
  const adapter = factory('mcd').configure({ hidden: [64, 32], numK: 2 }, 'test').create({ backbone, numClasses: 10, targetLabels: 0, seed: 0 });
  const models = adapter.checkpointModels();
  for (const key of ['classifier', 'classifier2']) {
    const head = models[key]!;
    t.deepEqual(head.inputs[0]!.shape, [null, 500]);
    t.deepEqual(head.outputs[0]!.shape, [null, 10]);
    // 500*64+64 + BN 2*64, 64*32+32 + BN 2*32, 32*10+10.
    t.is(params(head), 500 * 64 + 64 + 128 + 64 * 32 + 32 + 64 + 32 * 10 + 10, key);
  }
  t.not(models['classifier']!.getWeights()[0]!.dataSync()[0], models['classifier2']!.getWeights()[0]!.dataSync()[0], 'differently initialised');
  const phase = adapter.phases(4)[0]!;
  if (phase.subSteps == null) return t.fail('mcd has no sub-steps');
  const names = (m: tf.LayersModel) => m.trainableWeights.map((w) => (w.read() as tf.Variable).name).sort();
  const groupNames = (i: number) => phase.subSteps[i]!.variableGroups().flatMap((g) => g.variables.map((v) => v.name)).sort();
  t.deepEqual(groupNames(1), [...names(models['classifier']!), ...names(models['classifier2']!)].sort());
  t.deepEqual(groupNames(2), names(models['encoder']!));
  // One step trains: the encoder's and both heads' weights move.
  const before = Object.fromEntries(Object.entries(models).map(([k, m]) => [k, m.trainableWeights.map((w) => Array.from(w.read().dataSync()))]));
  const stepper = new Stepper(trainSchema.parse({ steps: 4, batchSize: 4, seed: 0 }), phase, { source: images(8), targetPool: images(8), targetLabelled: images(0) }, 10);
  const { total, terms } = stepper.step(1);
  for (const [k, m] of Object.entries(models)) t.true(m.trainableWeights.some((w, i) => Array.from(w.read().dataSync()).some((v, j) => v !== before[k]![i]![j])), `${k} moved`);
  tf.dispose([total, ...Object.values(terms)]);
  stepper.dispose();
  adapter.dispose();
});

test.serial('train.warmup: no target term acts before it (mcc and mcd), every term after it; a sub-step of target terms only is skipped', async (t) => {
  await useBackend('wasm');
  const run = (name: string, options: Record<string, unknown>, warmup: number, steps: number) => {
    const backbone = lenetDa.configure({}, 'test').build({ input: [28, 28, 1], numClasses: 10, seed: 0 });
    const adapter = factory(name).configure(options, 'test').create({ backbone, numClasses: 10, targetLabels: 0, seed: 0 });
    const phase = adapter.phases(steps)[0]!;
    const stepper = new Stepper(trainSchema.parse({ steps, batchSize: 4, seed: 0, warmup }), phase, { source: images(8), targetPool: images(8), targetLabelled: images(0) }, 10);
    const seen: string[][] = [];
    const totals: number[] = [];
    for (let s = 1; s <= steps; s++) {
      const { total, terms } = stepper.step(s);
      seen.push(Object.keys(terms).sort());
      totals.push(total.dataSync()[0]!);
      tf.dispose([total, ...Object.values(terms)]);
    }
    stepper.dispose();
    adapter.dispose();
    return { seen, totals };
  };
  const mcc = run('mcc', {}, 2, 3);
  // Terms are still computed and logged during the warm-up; the total (what is minimised) leaves them out.
  t.deepEqual(mcc.seen[0], ['cls', 'mcc']);
  const noWarm = run('mcc', {}, 0, 1);
  const cls = (r: { totals: number[] }) => r.totals[0]!;
  t.true(cls(noWarm) > cls(mcc), `without warm-up the mcc term adds to the total (${cls(noWarm)} vs ${cls(mcc)})`);
  const mcd = run('mcd', { numK: 2 }, 1, 2);
  t.deepEqual(mcd.seen[0], ['maximise/cls', 'maximise/cls2', 'maximise/discrepancy', 'source/cls', 'source/cls2'], 'step 1: the minimise sub-step (discrepancy only) is skipped');
  t.deepEqual(mcd.seen[1], ['maximise/cls', 'maximise/cls2', 'maximise/discrepancy', 'minimise/discrepancy', 'source/cls', 'source/cls2'], 'step 2: every sub-step');
});

test.serial('train.warmup: a module whose every term is off (dann\'s discriminator) is left as it is, then trained', async (t) => {
  await useBackend('wasm');
  const backbone = lenetDa.configure({}, 'test').build({ input: [28, 28, 1], numClasses: 10, seed: 0 });
  const adapter = factory('dann').configure({}, 'test').create({ backbone, numClasses: 10, targetLabels: 0, seed: 0 });
  const discriminator = adapter.checkpointModels()['discriminator']!;
  const read = () => discriminator.trainableWeights.map((w) => Array.from(w.read().dataSync()));
  const phase = adapter.phases(4)[0]!;
  const stepper = new Stepper(trainSchema.parse({ steps: 4, batchSize: 4, seed: 0, warmup: 2, optimizer: 'sgd', weightDecay: 0.01 }), phase, { source: images(8), targetPool: images(8), targetLabelled: images(0) }, 10);
  const start = read();
  const step = (s: number) => {
    const { total, terms, monitors } = stepper.step(s);
    tf.dispose([total, ...Object.values(terms), ...Object.values(monitors)]);
  };
  step(1);
  step(2);
  t.deepEqual(read(), start, 'unchanged during the warm-up (no gradient, no weight decay)');
  step(3);
  t.notDeepEqual(read(), start, 'trained after it');
  stepper.dispose();
  adapter.dispose();
});
