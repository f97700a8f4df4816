import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { createContainer } from '../../src/container.js';
import { ExperimentRunner } from '../../src/app/run-experiment.js';
import { digitnet } from '../../src/models/backbones.js';
import { alignableLayerNames, LayerTap, resolveLayers } from '../../src/train/alignment.js';
import { Stepper, beginPhasesTakeLast } from '../../src/train/step.js';
import { trainSchema } from '../../src/config/schema.js';
import { UserError } from '../../src/messages.js';
import type { ImageSet } from '../../src/data/types.js';
import { useBackend } from '../helpers.js';

function images(count: number, offset: number): ImageSet {
  const data = new Uint8Array(count * 28 * 28);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + offset * 7) % 256;
  return { images: data, labels: Int32Array.from({ length: count }, (_, i) => i % 10), count, height: 28, width: 28, channels: 1 };
}

test.serial('alignable layers: every encoder layer after the input, then the logits; unknown names are a config error', async (t) => {
  await useBackend('wasm');
  const backbone = digitnet.build({ input: [28, 28, 1], numClasses: 10, seed: 0 });
  t.deepEqual(alignableLayerNames(backbone), ['conv1', 'pool1', 'conv2', 'pool2', 'flatten', 'fc1', 'fc2', 'logits']);
  t.deepEqual(resolveLayers(backbone, undefined, 'mmd'), [{ name: 'fc2', weight: 1 }]);
  t.deepEqual(resolveLayers(backbone, ['flatten', { name: 'logits', weight: 0.5 }], 'mmd'), [
    { name: 'flatten', weight: 1 },
    { name: 'logits', weight: 0.5 },
  ]);
  const error = t.throws(() => resolveLayers(backbone, ['fc9'], 'dann', 'layer'), { instanceOf: UserError });
  t.regex(error!.message, /^adapter\.layer: strategy 'dann' has no layer 'fc9' to read \(layers of this backbone: conv1, .*, logits\)/);
});

test.serial('layer tap: flattened layer outputs and the logits, equal to the backbone applied directly', async (t) => {
  await useBackend('wasm');
  const backbone = digitnet.build({ input: [28, 28, 1], numClasses: 10, seed: 3 });
  const tap = new LayerTap(backbone, [
    { name: 'logits', weight: 1 },
    { name: 'flatten', weight: 1 },
  ]);
  t.deepEqual(tap.sizes, [10, 4 * 4 * 48]);
  const x = tf.randomUniform([5, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
  const { layers, logits } = tap.apply(x);
  t.deepEqual(layers.map((l) => l.shape), [[5, 10], [5, 768]]);
  const direct = backbone.classifier.predict(backbone.encoder.predict(x) as tf.Tensor) as tf.Tensor;
  t.true(tf.max(tf.abs(tf.sub(direct, logits))).dataSync()[0]! < 1e-5);
  t.true(tf.max(tf.abs(tf.sub(layers[0]!, logits))).dataSync()[0]! === 0);
});

test.serial('mmd, coral and dann on non-default layers: the step moves the weights and leaks no tensors', async (t) => {
  await useBackend('wasm');
  const factories = createContainer().get(ExperimentRunner).adapterFactories();
  const cases = [
    { name: 'mmd', options: { layers: ['fc1', { name: 'logits', weight: 0.5 }] } },
    { name: 'coral', options: { layers: ['logits'] } },
    { name: 'dann', options: { layer: 'flatten' } },
  ];
  for (const c of cases) {
    const factory = factories.find((f) => f.name === c.name)!;
    const backbone = digitnet.build({ input: [28, 28, 1], numClasses: 10, seed: 0 });
    const adapter = factory.configure(c.options, 'test').create({ backbone, numClasses: 10, targetLabels: 0, seed: 0 });
    const train = trainSchema.parse({ steps: 30, batchSize: 8, seed: 0 });
    const stepper = new Stepper(train, beginPhasesTakeLast(adapter, train), { source: images(40, 0), targetPool: images(40, 5), targetLabelled: images(0, 0) }, 10);
    const before = backbone.encoder.getLayer('conv1').getWeights()[0]!.dataSync().slice();
    const counts: number[] = [];
    for (let s = 1; s <= 30; s++) {
      const { total, terms, monitors } = stepper.step(s);
      if (s === 30) t.true(Number.isFinite(terms[c.name === 'dann' ? 'domain' : c.name]!.dataSync()[0]!), c.name);
      tf.dispose([total, ...Object.values(terms), ...Object.values(monitors)]);
      if (s === 5 || s === 30) counts.push(tf.memory().numTensors);
    }
    const after = backbone.encoder.getLayer('conv1').getWeights()[0]!.dataSync();
    t.true(after.some((v, i) => v !== before[i]), `${c.name}: conv1 did not change`);
    t.is(counts[1], counts[0], `${c.name}: ${counts.join(' -> ')}`);
    stepper.dispose();
    adapter.dispose();
  }
});
