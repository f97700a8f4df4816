import { createRequire } from 'node:module';
import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { probeBackends, useBackend as switchBackend } from '../../src/backend/backends.js';
import { digitnet } from '../../src/models/backbones.js';
import { sourceAdapter } from '../../adapters/source.js';
import { Stepper, beginPhasesTakeLast } from '../../src/train/step.js';
import { trainSchema } from '../../src/config/schema.js';
import type { ImageSet } from '../../src/data/types.js';

const probes = await probeBackends();
const native = probes.find((p) => p.name === 'tensorflow')!;
const inCi = process.env['CI'] === 'true';
// In CI the native route is installed by .ci/run (npm run native:install), so it must load there.
const nativeTest = native.loaded || inCi ? test : test.skip;
if (!native.loaded && !inCi) console.log(`# native TensorFlow test skipped: ${native.reason} (run: npm run native:install)`);

function digits(count: number, seed: number): ImageSet {
  const images = new Uint8Array(count * 28 * 28);
  for (let i = 0; i < images.length; i++) images[i] = (i * 2654435761 + seed * 97) % 251;
  return { images, labels: Int32Array.from({ length: count }, (_, i) => i % 10), count, height: 28, width: 28, channels: 1 };
}

async function oneStepLoss(backend: 'cpu' | 'tensorflow'): Promise<{ first: number; second: number }> {
  await switchBackend(backend);
  const backbone = digitnet.build({ input: [28, 28, 1], numClasses: 10, seed: 5 });
  const adapter = sourceAdapter.configure({}, 'test').create({ backbone, numClasses: 10, targetLabels: 0, seed: 5 });
  const train = trainSchema.parse({ steps: 2, batchSize: 16, seed: 5 });
  const stepper = new Stepper(train, beginPhasesTakeLast(adapter, train), { source: digits(64, 1), targetPool: digits(64, 2), targetLabelled: digits(0, 3) }, 10);
  const losses: number[] = [];
  for (const s of [1, 2]) {
    const { total, terms, monitors } = stepper.step(s);
    losses.push((await total.data())[0]!);
    tf.dispose([total, ...Object.values(terms), ...Object.values(monitors)]);
  }
  stepper.dispose();
  adapter.dispose();
  return { first: losses[0]!, second: losses[1]! };
}

nativeTest('native TensorFlow gives the same loss as the cpu backend (one step, then the step after the update)', async (t) => {
  t.true(native.loaded, native.reason);
  createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
  const cpu = await oneStepLoss('cpu');
  const tensorflow = await oneStepLoss('tensorflow');
  t.is(tf.getBackend(), 'tensorflow');
  t.true(Math.abs(tensorflow.first - cpu.first) / Math.abs(cpu.first) < 1e-4, `${tensorflow.first} vs ${cpu.first}`);
  t.true(Math.abs(tensorflow.second - cpu.second) / Math.abs(cpu.second) < 1e-4, `${tensorflow.second} vs ${cpu.second}`);
});
