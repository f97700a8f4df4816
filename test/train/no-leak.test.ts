import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { createContainer } from '../../src/container.js';
import { ExperimentRunner } from '../../src/app/run-experiment.js';
import { digitnet } from '../../src/models/backbones.js';
import { Stepper, beginPhasesTakeLast } from '../../src/train/step.js';
import { trainSchema } from '../../src/config/schema.js';
import type { ImageSet } from '../../src/data/types.js';
import { imagesOf } from '../../src/data/batches.js';
import { useBackend } from '../helpers.js';

function images(count: number): ImageSet {
  const data = new Uint8Array(count * 28 * 28);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31) % 256;
  return { images: data, labels: Int32Array.from({ length: count }, (_, i) => i % 10), count, height: 28, width: 28, channels: 1 };
}

test('every strategy: numTensors after 200 steps equals that after 20', async (t) => {
  await useBackend('wasm');
  const runner = createContainer().get(ExperimentRunner);
  const factories = runner.adapterFactories();
  t.true(factories.length >= 3);
  // adabn needs batch normalisation: a small resnet (digitnet has none).
  const resnet8 = runner.backboneFactories().find((b) => b.name === 'resnet')!.configure({ depth: 8 }, 'test');
  for (const factory of factories) {
    const backbone = factory.name === 'adabn' ? resnet8.build({ input: [28, 28, 1], numClasses: 10, seed: 0 }) : digitnet.build({ input: [28, 28, 1], numClasses: 10, seed: 0 });
    const pool = images(40);
    const targetPool = { count: pool.count, batches: (size: number) => imagesOf(pool, size) };
    const adapter = factory.configure({}, 'test').create({ backbone, numClasses: 10, targetLabels: 2, seed: 0, targetPool });
    const train = trainSchema.parse({ steps: 200, batchSize: 4, seed: 0 });
    const stepper = new Stepper(train, beginPhasesTakeLast(adapter, train), { source: images(40), targetPool: pool, targetLabelled: images(20) }, 10);
    const counts: number[] = [];
    for (let s = 1; s <= 200; s++) {
      const { total, terms, monitors } = stepper.step(s);
      tf.dispose([total, ...Object.values(terms), ...Object.values(monitors)]);
      if (s === 20 || s === 200) counts.push(tf.memory().numTensors);
    }
    t.is(counts[1], counts[0], `${factory.name}: ${counts.join(' -> ')}`);
    stepper.dispose();
    adapter.dispose();
  }
});
