/**
 * Child process of gpu-build.test.ts: loads one build of native TensorFlow by package name
 * (argv[2]: @tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu), trains digitnet `source` for 3
 * steps on fixed images and prints the losses, whether TensorFlow placed the ops on a GPU, and the
 * same three steps' losses on tfjs's cpu backend, as JSON.
 * Not a test file itself (no .test. in the name).
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { applyThreadLimits } from '../../src/backend/threads.js';
import { registerNativeTrainingGradients } from '../../src/backend/native-training-kernels.js';
import { digitnet } from '../../src/models/backbones.js';
import { sourceAdapter } from '../../adapters/source.js';
import { Stepper, beginPhasesTakeLast } from '../../src/train/step.js';
import { trainSchema } from '../../src/config/schema.js';
import type { ImageSet } from '../../src/data/types.js';

const pkg = process.argv[2]!;
process.env['TF_CPP_MIN_LOG_LEVEL'] = '3';
applyThreadLimits();
createRequire(import.meta.url)(pkg);
registerNativeTrainingGradients();
if (!(await tf.setBackend('tensorflow'))) throw new Error(`${pkg}: no tensorflow backend`);

function digits(count: number, seed: number): ImageSet {
  const images = new Uint8Array(count * 28 * 28);
  for (let i = 0; i < images.length; i++) images[i] = (i * 2654435761 + seed * 97) % 251;
  return { images, labels: Int32Array.from({ length: count }, (_, i) => i % 10), count, height: 28, width: 28, channels: 1 };
}
async function threeSteps(): Promise<number[]> {
  const backbone = digitnet.build({ input: [28, 28, 1], numClasses: 10, seed: 5 });
  const adapter = sourceAdapter.configure({}, 'test').create({ backbone, numClasses: 10, targetLabels: 0, seed: 5 });
  const train = trainSchema.parse({ steps: 3, batchSize: 16, seed: 5 });
  const stepper = new Stepper(train, beginPhasesTakeLast(adapter, train), { source: digits(64, 1), targetPool: digits(64, 2), targetLabelled: digits(0, 3) }, 10);
  const losses: number[] = [];
  for (const s of [1, 2, 3]) {
    const { total, terms, monitors } = stepper.step(s);
    losses.push((await total.data())[0]!);
    tf.dispose([total, ...Object.values(terms), ...Object.values(monitors)]);
  }
  stepper.dispose();
  adapter.dispose();
  return losses;
}
const losses = await threeSteps();
const gpu = (tf.backend() as unknown as { isUsingGpuDevice?: boolean }).isUsingGpuDevice === true;
// The same three steps on tfjs's pure-JS cpu backend, the reference of test/backend/native.test.ts.
await tf.setBackend('cpu');
const cpuBackendLosses = await threeSteps();
process.stdout.write(JSON.stringify({ pkg, losses, gpu, cpuBackendLosses }) + '\n');
