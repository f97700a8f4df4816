/**
 * FlatAdam (src/train/flat-adam.ts) computes exactly what tfjs's AdamOptimizer computes: the same
 * float32 weights, bit for bit, after several steps on variables of different shapes, on every
 * backend that loads here (the arithmetic is element-wise and in the same order).
 */
import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { probeBackends, useBackend } from '../../src/backend/backends.js';
import { FlatAdam, type StepOptimizer } from '../../src/train/flat-adam.js';

const probes = await probeBackends();
const backends = probes.filter((p) => p.loaded && (p.name === 'tensorflow' || p.name === 'wasm' || p.name === 'cpu')).map((p) => p.name);
const SHAPES = [[5, 5, 1, 4], [4], [12, 3], [3]];

function values(shape: number[], seed: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 13.7 + i * 0.37) * (1 + (i % 3)));
}

async function train(kind: 'tfjs' | 'flat', prefix: string, lrs: number[]): Promise<Float32Array[]> {
  const vars = SHAPES.map((shape, k) => tf.tidy(() => tf.variable(tf.tensor(values(shape, k), shape), true, `${prefix}/v${k}`)));
  const optimizer = (kind === 'tfjs' ? tf.train.adam(lrs[0]) : new FlatAdam(lrs[0]!)) as unknown as StepOptimizer;
  for (let step = 0; step < lrs.length; step++) {
    (optimizer as unknown as { learningRate: number }).learningRate = lrs[step]!;
    const grads = tf.tidy(() => Object.fromEntries(vars.map((v, k) => [v.name, tf.mul(tf.tensor(values(v.shape, 100 + step * 7 + k), v.shape), tf.add(v, 0.5))])));
    optimizer.applyGradients(grads);
    tf.dispose(Object.values(grads));
  }
  const out = await Promise.all(vars.map(async (v) => (await v.data()) as Float32Array));
  optimizer.dispose();
  tf.dispose(vars);
  return out;
}

for (const backend of backends) {
  test.serial(`FlatAdam equals tfjs's Adam bit for bit (${backend}, 6 steps, changing learning rate)`, async (t) => {
    await useBackend(backend);
    const lrs = [1e-3, 1e-3, 5e-4, 5e-4, 2e-3, 1e-4];
    const before = tf.memory().numTensors;
    const reference = await train('tfjs', `${backend}-ref`, lrs);
    const flat = await train('flat', `${backend}-flat`, lrs);
    t.is(tf.memory().numTensors, before, 'no tensor left behind');
    let moved = 0;
    for (let k = 0; k < SHAPES.length; k++) {
      const start = values(SHAPES[k]!, k);
      for (let i = 0; i < start.length; i++) {
        if (flat[k]![i] !== start[i]) moved++;
        if (!Object.is(flat[k]![i], reference[k]![i])) return t.fail(`v${k}[${i}]: flat ${flat[k]![i]} tfjs ${reference[k]![i]}`);
      }
    }
    t.true(moved > 0, 'the weights moved');
  });
}

test.serial('FlatAdam refuses a different set of variables on a later step', async (t) => {
  await useBackend(backends[0]!);
  const a = tf.variable(tf.ones([2]), true, 'refuse/a');
  const b = tf.variable(tf.ones([2]), true, 'refuse/b');
  const optimizer = new FlatAdam(1e-3);
  optimizer.applyGradients({ 'refuse/a': tf.ones([2]), 'refuse/b': tf.ones([2]) });
  t.throws(() => optimizer.applyGradients({ 'refuse/a': tf.ones([2]) }), { message: /variables changed/ });
  optimizer.dispose();
  tf.dispose([a, b]);
});
