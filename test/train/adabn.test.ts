/**
 * adabn: after its statistics pass, each batch-norm layer's moving mean and variance are the
 * target's statistics of the layer's input (here: the first one, whose input is the stem
 * convolution's output, computed independently); every other weight is untouched. A backbone
 * without batch normalisation is refused with one line (exit 2).
 */
import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { createContainer } from '../../src/container.js';
import { ExperimentRunner } from '../../src/app/run-experiment.js';
import { digitnet } from '../../src/models/backbones.js';
import { Stepper } from '../../src/train/step.js';
import { trainSchema } from '../../src/config/schema.js';
import { UserError } from '../../src/messages.js';
import type { ImageSet } from '../../src/data/types.js';
import { useBackend } from '../helpers.js';

/** `count` copies of one image (every batch then has the same statistics, whatever the order). */
function copies(count: number, seed: number): ImageSet {
  const one = Uint8Array.from({ length: 28 * 28 }, (_, i) => ((i * seed * 37) % 251) + (i % 28 < 14 ? 0 : 4));
  const images = new Uint8Array(count * one.length);
  for (let k = 0; k < count; k++) images.set(one, k * one.length);
  return { images, labels: Int32Array.from({ length: count }, (_, i) => i % 10), count, height: 28, width: 28, channels: 1 };
}

test.serial('adabn: the batch-norm statistics become the target statistics of their inputs; the other weights stay', async (t) => {
  await useBackend('wasm');
  const runner = createContainer().get(ExperimentRunner);
  const factory = runner.adapterFactories().find((f) => f.name === 'adabn')!;
  const backbone = runner.backboneFactories().find((b) => b.name === 'resnet')!.configure({ depth: 8 }, 'test').build({ input: [28, 28, 1], numClasses: 10, seed: 0 });
  const adapter = factory.configure({ batches: 6 }, 'test').create({ backbone, numClasses: 10, targetLabels: 0, seed: 0, pretrained: true });
  const phases = adapter.phases(10);
  t.deepEqual(phases.map((p) => p.name), ['adabn'], 'with model.from: only the statistics pass');
  const phase = phases[0]!;
  const encoder = backbone.encoder;
  const bn = encoder.layers.find((l) => l.getClassName() === 'BatchNormalization')!;
  const kernels = encoder.layers.filter((l) => l.getClassName() === 'Conv2D').map((l) => l.getWeights()[0]!.dataSync().slice());
  const before = bn.getWeights().map((w) => w.dataSync().slice());

  const target = copies(24, 3);
  const stepper = new Stepper(trainSchema.parse({ steps: phase.steps, batchSize: 8 }), phase, { source: copies(8, 5), targetPool: target, targetLabelled: copies(0, 1) }, 10);
  for (let s = 1; s <= phase.steps; s++) {
    const out = stepper.step(s);
    tf.dispose([out.total, ...Object.values(out.terms)]);
  }
  stepper.dispose();

  // Independently: the input of that batch-norm layer (its inbound layer's output) for the target images.
  const inbound = bn.inboundNodes[0]!.inboundLayers[0]!;
  const probe = tf.model({ inputs: encoder.inputs, outputs: encoder.getLayer(inbound.name).output as tf.SymbolicTensor });
  const x = tf.tensor4d(Float32Array.from(target.images.subarray(0, 8 * 784), (v) => v / 255), [8, 28, 28, 1]);
  const h = probe.predict(x) as tf.Tensor4D;
  const { mean, variance } = tf.moments(h, [0, 1, 2]);
  const [gamma, beta, movingMean, movingVariance] = bn.getWeights().map((w) => Array.from(w.dataSync()));
  const expectedMean = Array.from(mean.dataSync());
  const expectedVar = Array.from(variance.dataSync());
  movingMean!.forEach((v, i) => t.true(Math.abs(v - expectedMean[i]!) <= 1e-4 * Math.max(1, Math.abs(expectedMean[i]!)), `mean ${i}: ${v} vs ${expectedMean[i]}`));
  movingVariance!.forEach((v, i) => t.true(Math.abs(v - expectedVar[i]!) <= 1e-3 * Math.max(1, expectedVar[i]!), `variance ${i}: ${v} vs ${expectedVar[i]}`));
  t.notDeepEqual(movingMean, Array.from(before[2]!), 'the statistics changed');
  t.deepEqual(gamma, Array.from(before[0]!), 'gamma untouched');
  t.deepEqual(beta, Array.from(before[1]!), 'beta untouched');
  encoder.layers.filter((l) => l.getClassName() === 'Conv2D').forEach((l, i) => t.deepEqual(Array.from(l.getWeights()[0]!.dataSync()), Array.from(kernels[i]!), `${l.name} untouched`));
  t.is((bn as unknown as { momentum: number }).momentum, 0.9, 'the layer momentum restored');
  tf.dispose([x, h, mean, variance]);
  adapter.dispose();
});

test.serial('adabn without batch normalisation: a UserError naming the backbone', async (t) => {
  await useBackend('wasm');
  const runner = createContainer().get(ExperimentRunner);
  const factory = runner.adapterFactories().find((f) => f.name === 'adabn')!;
  const backbone = digitnet.build({ input: [28, 28, 1], numClasses: 10, seed: 0 });
  const error = t.throws(() => factory.configure({}, 'test').create({ backbone, numClasses: 10, targetLabels: 0, seed: 0 }));
  t.true(error instanceof UserError);
  t.regex(error!.message, /strategy 'adabn' recomputes batch-norm statistics, and backbone 'digitnet' has no batch normalisation/);
});
