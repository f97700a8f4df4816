/**
 * The activation gradients dalab runs as TensorFlow ops on the native backend
 * (src/backend/native-training-kernels.ts) equal tfjs's own formulas, computed on the cpu backend
 * from the same inputs, and the native step really runs them (one kernel, not tfjs's seven).
 */
import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { probeBackends, useBackend } from '../../src/backend/backends.js';

const probes = await probeBackends();
const native = probes.find((p) => p.name === 'tensorflow')!;
const inCi = process.env['CI'] === 'true';
const nativeTest = native.loaded || inCi ? test.serial : test.serial.skip;
if (!native.loaded && !inCi) console.log(`# native gradient test skipped: ${native.reason} (run: npm run native:install)`);

// Values on both sides of every kink (0 for ReLU, 0 and 6 for ReLU6), saturating ones for sigmoid/tanh.
const X = Float32Array.from({ length: 4 * 5 * 6 }, (_, i) => ((i * 37) % 120) / 8 - 7.3);
const DY = Float32Array.from({ length: X.length }, (_, i) => Math.sin(i * 0.7) * 2);
const ACTIVATIONS: Record<string, (x: tf.Tensor) => tf.Tensor> = { relu: tf.relu, relu6: tf.relu6, sigmoid: tf.sigmoid, tanh: tf.tanh };

async function gradient(name: string): Promise<{ values: ArrayLike<number>; kernels: string[] }> {
  const f = ACTIVATIONS[name]!;
  let values: ArrayLike<number> = [];
  const profile = await tf.profile(async () => {
    const x = tf.tensor(X, [4, 5, 6]);
    const dy = tf.tensor(DY, [4, 5, 6]);
    const g = tf.grad((t: tf.Tensor) => f(t))(x, dy);
    values = await g.data();
    tf.dispose([x, dy, g]);
  });
  return { values, kernels: profile.kernels.map((k) => k.name) };
}

for (const [name, kernel] of [['relu', 'DalabReluGrad'], ['relu6', 'DalabRelu6Grad'], ['sigmoid', 'DalabSigmoidGrad'], ['tanh', 'DalabTanhGrad']] as const) {
  nativeTest(`${name}: the native gradient is TensorFlow's ${kernel.slice(5)} op and equals tfjs's formula`, async (t) => {
    await useBackend('cpu');
    const reference = await gradient(name);
    t.false(reference.kernels.includes(kernel), 'the cpu backend uses tfjs formula');
    await useBackend('tensorflow');
    const got = await gradient(name);
    t.true(got.kernels.includes(kernel), `kernels run: ${got.kernels.join(', ')}`);
    t.false(got.kernels.includes('Step'), 'no tfjs step() on the native backend');
    let worst = 0;
    for (let i = 0; i < X.length; i++) worst = Math.max(worst, Math.abs(got.values[i]! - reference.values[i]!));
    t.true(worst <= 1e-6, `largest difference ${worst}`);
  });
}
