import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { mmd } from '../../src/losses/mmd.js';
import { coral } from '../../src/losses/coral.js';
import { differenceLoss, scaleInvariantMse } from '../../src/losses/separation.js';
import { classBalanceLoss, distillationLoss } from '../../src/losses/distillation.js';
import { reverseGradient, stopGradient } from '../../src/losses/gradient.js';
import { classifierDiscrepancy } from '../../src/losses/discrepancy.js';
import { entropyConditioningWeights, multilinearMap, randomMultilinearMap } from '../../src/losses/conditional.js';
import { informationMaximisation } from '../../src/losses/information.js';
import { smoothedCrossEntropy } from '../../src/losses/classification.js';
import { domainClassification } from '../../src/losses/domain.js';
import { batchNuclearNormLoss, entropyLoss, minimumClassConfusion } from '../../src/losses/confusion.js';
import { ROOT, useBackend } from '../helpers.js';

interface Fixture {
  name: string;
  inputs: number[][];
  value: number;
  grads: unknown[];
  temperature?: number;
  threshold?: number;
  entropy?: boolean;
  epsilon?: number;
  maskFraction?: number;
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
  'mcd-discrepancy': { fn: () => (a, b) => classifierDiscrepancy(a as tf.Tensor2D, b as tf.Tensor2D), wrt: [0, 1] },
  // A linear discriminator w: the map, the entropy weights and the weighted BCE, no reversal.
  cdan: { fn: (f) => (fs, ft, zs, zt, w) => cdanLoss(multilinearMap, fs, ft, zs, zt, w, f.entropy === true), wrt: [0, 1, 4] },
  'cdan-random': { fn: () => (fs, ft, zs, zt, w, rf, rg) => cdanLoss((a, b) => randomMultilinearMap(a, b, rf as tf.Tensor2D, rg as tf.Tensor2D), fs, ft, zs, zt, w, true), wrt: [0, 1, 4] },
  'shot-im': { fn: () => (z) => informationMaximisation(z as tf.Tensor2D), wrt: [0] },
  'class-balance': { fn: (f) => (z) => classBalanceLoss(z as tf.Tensor2D, f.maskFraction), wrt: [0] },
  'smoothed-ce': { fn: (f) => (z, y) => smoothedCrossEntropy(z as tf.Tensor2D, y as tf.Tensor2D, f.epsilon!), wrt: [0] },
};

/** CDAN's domain loss as cdan.ts composes it, with the predictions held constant. */
function cdanLoss(map: (f: tf.Tensor2D, g: tf.Tensor2D) => tf.Tensor2D, fs: tf.Tensor | undefined, ft: tf.Tensor | undefined, zs: tf.Tensor | undefined, zt: tf.Tensor | undefined, w: tf.Tensor | undefined, entropy: boolean): tf.Scalar {
  const g = (z: tf.Tensor) => tf.softmax(stopGradient(z as tf.Tensor2D));
  const features = tf.concat([map(fs as tf.Tensor2D, g(zs!)), map(ft as tf.Tensor2D, g(zt!))]) as tf.Tensor2D;
  const weights = entropy ? entropyConditioningWeights(zs as tf.Tensor2D, zt as tf.Tensor2D) : undefined;
  return domainClassification((x) => tf.matMul(x, w as tf.Tensor2D), features, fs!.shape[0]!, ft!.shape[0]!, weights).loss;
}

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
    t.true(fixtures.length >= 45);
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
