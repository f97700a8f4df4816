import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { mmd } from '../../src/losses/mmd.js';
import { coral } from '../../src/losses/coral.js';
import { differenceLoss, scaleInvariantMse } from '../../src/losses/separation.js';
import { distillationLoss } from '../../src/losses/distillation.js';
import { reverseGradient } from '../../src/losses/gradient.js';
import { batchNuclearNormLoss, entropyLoss, minimumClassConfusion } from '../../src/losses/confusion.js';
import { ROOT, useBackend } from '../helpers.js';

interface Fixture {
  name: string;
  inputs: number[][];
  value: number;
  grads: unknown[];
  temperature?: number;
  threshold?: number;
}

// Made by test/fixtures/make_loss_fixtures.py (NumPy, float64, central differences).
const fixtures = (JSON.parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/losses.json'), 'utf8')) as { cases: Fixture[] }).cases;

type LossFn = (...inputs: tf.Tensor[]) => tf.Scalar;
const implementations: Record<string, { fn: (f: Fixture) => LossFn; wrt: number[] }> = {
  'mmd-biased': { fn: () => (s, t) => mmd(s as tf.Tensor2D, t as tf.Tensor2D), wrt: [0, 1] },
  'mmd-linear': { fn: () => (s, t) => mmd(s as tf.Tensor2D, t as tf.Tensor2D, { estimator: 'linear' }), wrt: [0, 1] },
  coral: { fn: () => (s, t) => coral(s as tf.Tensor2D, t as tf.Tensor2D), wrt: [0, 1] },
  difference: { fn: () => (a, b) => differenceLoss(a as tf.Tensor2D, b as tf.Tensor2D), wrt: [0, 1] },
  'si-mse': { fn: () => (x, y) => scaleInvariantMse(x!, y!), wrt: [1] },
  distillation: { fn: (f) => (s, t) => distillationLoss(s as tf.Tensor2D, t as tf.Tensor2D, f.temperature, f.threshold), wrt: [0] },
  mcc: { fn: (f) => (z) => minimumClassConfusion(z as tf.Tensor2D, f.temperature), wrt: [0] },
  entropy: { fn: () => (z) => entropyLoss(z as tf.Tensor2D), wrt: [0] },
  bnm: { fn: () => (z) => batchNuclearNormLoss(z as tf.Tensor2D), wrt: [0] },
};

function flatten(value: unknown): number[] {
  return Array.isArray(value) ? value.flatMap(flatten) : [value as number];
}

function shapeOf(value: unknown): number[] {
  const shape: number[] = [];
  let v = value;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0];
  }
  return shape;
}

for (const backend of ['wasm', 'cpu'] as const) {
  test.serial(`losses match the NumPy implementation, values and gradients (${backend})`, async (t) => {
    await useBackend(backend);
    t.true(fixtures.length >= 24);
    for (const fixture of fixtures) {
      const kind = fixture.name.replace(/-\d+$/, '');
      const impl = implementations[kind];
      t.truthy(impl, `no implementation for ${fixture.name}`);
      const inputs = fixture.inputs.map((x) => tf.tensor(flatten(x), shapeOf(x)));
      const fn = impl!.fn(fixture);
      const value = fn(...inputs).dataSync()[0]!;
      t.true(Math.abs(value - fixture.value) <= 1e-4 * Math.max(1, Math.abs(fixture.value)), `${fixture.name}: value ${value} vs ${fixture.value}`);
      const grads = tf.grads((...xs: tf.Tensor[]) => fn(...xs))(inputs);
      impl!.wrt.forEach((w, j) => {
        const expected = flatten(fixture.grads[j]);
        const actual = Array.from(grads[w]!.dataSync());
        const scale = Math.max(...expected.map(Math.abs), 1e-6);
        const worst = Math.max(...expected.map((e, i) => Math.abs(e - actual[i]!)));
        t.true(worst <= 1e-3 * scale, `${fixture.name}: gradient ${w} off by ${worst} (scale ${scale})`);
      });
      tf.dispose([...inputs, ...grads]);
    }
  });
}

test.serial('gradient reversal: identity forward, gradient times -lambda backward', async (t) => {
  await useBackend('wasm');
  const x = tf.tensor1d([1, -2, 3]);
  const c = tf.tensor1d([0.5, 2, -1]);
  t.deepEqual(Array.from(reverseGradient(x, 0.7).dataSync()), [1, -2, 3]);
  const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(reverseGradient(v, 0.7), c)))(x);
  const expected = [-0.35, -1.4, 0.7];
  Array.from(g.dataSync()).forEach((v, i) => t.true(Math.abs(v - expected[i]!) < 1e-6));
  const g0 = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(reverseGradient(v, 0), c)))(x);
  t.deepEqual(Array.from(g0.dataSync()).map(Math.abs), [0, 0, 0]);
});
