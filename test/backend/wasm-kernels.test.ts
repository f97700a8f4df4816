import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { useBackend } from '../helpers.js';

interface Case {
  x: number[];
  f: number[];
  shape: [number, number, number, number];
  filterShape: [number, number, number, number];
  stride: number;
  pad: 'valid' | 'same';
}

function randomCases(count: number, seed: string): Case[] {
  const rng = seedrandom(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
  const cases: Case[] = [];
  for (let i = 0; i < count; i++) {
    const h = int(5, 16), w = int(5, 16), ci = int(1, 6), co = int(1, 7);
    const k = int(1, Math.min(5, h, w));
    const shape: Case['shape'] = [int(1, 4), h, w, ci];
    const filterShape: Case['filterShape'] = [k, k, ci, co];
    cases.push({
      shape,
      filterShape,
      stride: 1 + (i % 2),
      pad: i % 4 < 2 ? 'valid' : 'same',
      x: Array.from({ length: shape.reduce((a, b) => a * b) }, () => rng() * 2 - 1),
      f: Array.from({ length: filterShape.reduce((a, b) => a * b) }, () => rng() * 2 - 1),
    });
  }
  return cases;
}

/** Gradients of sum(conv2d(x, f)^2) and of a max-pool on top, with respect to x and f. */
async function gradients(backend: 'wasm' | 'cpu', cases: Case[]): Promise<number[][][]> {
  await useBackend(backend);
  return cases.map((c) =>
    tf.tidy(() => {
      const x = tf.tensor4d(c.x, c.shape);
      const f = tf.tensor4d(c.f, c.filterShape);
      const loss = (a: tf.Tensor, b: tf.Tensor) => {
        const y = tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad);
        const pooled = y.shape[1]! >= 2 && y.shape[2]! >= 2 ? tf.maxPool(y, 2, 2, 'valid') : y;
        return tf.add(y.square().sum(), pooled.sum()) as tf.Scalar;
      };
      const [dx, df] = tf.grads(loss)([x, f]);
      return [Array.from(dx!.dataSync()), Array.from(df!.dataSync())];
    }),
  );
}

function relativeError(reference: number[], actual: number[]): number {
  const scale = Math.max(...reference.map(Math.abs), 1e-12);
  let worst = 0;
  reference.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - actual[i]!))));
  return worst / scale;
}

test('wasm conv2d filter and input gradients (and max-pool gradient) match the cpu backend', async (t) => {
  const cases = randomCases(16, 'dalab/kernels');
  const cpu = await gradients('cpu', cases);
  const wasm = await gradients('wasm', cases);
  t.is(tf.getBackend(), 'wasm');
  cases.forEach((c, i) => {
    const label = `x ${c.shape} f ${c.filterShape} stride ${c.stride} ${c.pad}`;
    t.true(relativeError(cpu[i]![1]!, wasm[i]![1]!) < 1e-4, `filter gradient, ${label}`);
    t.true(relativeError(cpu[i]![0]!, wasm[i]![0]!) < 1e-4, `input gradient, ${label}`);
  });
  // The cases cover both strides and both paddings.
  t.deepEqual(new Set(cases.map((c) => `${c.stride}/${c.pad}`)).size, 4);
});

test('wasm max-pool gradient with ties (ReLU zeros, repeated values), 2x2/2 on even and odd sizes and 3x3/2: the cpu backend\'s first-maximum rule', async (t) => {
  const rng = seedrandom('dalab/pool-ties');
  const run = async (backend: 'wasm' | 'cpu', shape: [number, number, number, number], size: number, values: number[]) => {
    await useBackend(backend);
    return tf.tidy(() => {
      const x = tf.tensor4d(values, shape);
      const pool = (a: tf.Tensor) => tf.maxPool(tf.relu(a as tf.Tensor4D), size, 2, 'valid');
      // A different weight for every pooled value, so a gradient routed to the wrong input shows.
      const shapeOut = pool(x).shape;
      const weights = tf.range(1, 1 + shapeOut.reduce((a, b) => a * b)).reshape(shapeOut);
      return Array.from(tf.grad((a: tf.Tensor) => tf.sum(tf.mul(pool(a), weights)) as tf.Scalar)(x).dataSync());
    });
  };
  for (const [shape, size] of [[[2, 8, 6, 3], 2], [[1, 7, 9, 2], 2], [[2, 9, 9, 2], 3]] as [[number, number, number, number], number][]) {
    // Values in {-1, 0, 0.5, 1}: many windows hold equal maxima, many only zeros after the ReLU.
    const values = Array.from({ length: shape.reduce((a, b) => a * b) }, () => [-1, 0, 0.5, 1][Math.floor(rng() * 4)]!);
    t.deepEqual(await run('wasm', shape, size, values), await run('cpu', shape, size, values), `x ${shape} pool ${size}`);
  }
});

/**
 * The other gradients the backbones' training steps need (MobileNet's depthwise convolutions,
 * batch norm in training mode, average pooling, DenseNet's and Inception's concatenations, ReLU6,
 * sigmoid, tanh, AlexNet's local response normalisation, -Infinity padding before max pools):
 * each on random shapes, wasm against cpu, within 1e-4 of the largest gradient.
 */
type Op = { name: string; inputs: (rng: () => number, i: number) => { shapes: number[][]; attrs: Record<string, unknown> }; f: (xs: tf.Tensor[], attrs: Record<string, unknown>) => tf.Tensor };
const OPS: Op[] = [
  {
    name: 'depthwiseConv2d',
    inputs: (rng, i) => {
      const k = 1 + 2 * Math.floor(rng() * 3) + (i % 3 === 2 ? 1 : 0); // 1, 3, 5 and even 2, 4, 6
      const c = 1 + Math.floor(rng() * 6);
      const h = k + Math.floor(rng() * 10);
      return { shapes: [[1 + Math.floor(rng() * 3), h, h + Math.floor(rng() * 3), c], [k, k, c, 1 + (i % 2)]], attrs: { stride: 1 + (Math.floor(i / 2) % 2), pad: i % 4 < 2 ? 'same' : i % 8 < 6 ? 'valid' : [[0, 0], [1, 1], [1, 1], [0, 0]] } };
    },
    f: ([x, w], a) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, a['stride'] as number, a['pad'] as 'same'),
  },
  {
    name: 'batch norm (training mode: batch moments)',
    inputs: (rng) => {
      const c = 1 + Math.floor(rng() * 8);
      return { shapes: [[2 + Math.floor(rng() * 3), 2 + Math.floor(rng() * 6), 2 + Math.floor(rng() * 6), c], [c], [c]], attrs: {} };
    },
    f: ([x, gamma, beta]) => {
      const { mean, variance } = tf.moments(x!, [0, 1, 2]);
      return tf.batchNorm(x!, mean, variance, beta!, gamma!, 1e-5);
    },
  },
  {
    name: 'avgPool',
    inputs: (rng, i) => ({ shapes: [[1 + Math.floor(rng() * 3), 4 + Math.floor(rng() * 8), 4 + Math.floor(rng() * 8), 1 + Math.floor(rng() * 5)]], attrs: { size: 2 + (i % 2), stride: 1 + (Math.floor(i / 2) % 2) } }),
    f: ([x], a) => tf.avgPool(x as tf.Tensor4D, a['size'] as number, a['stride'] as number, 'valid'),
  },
  {
    name: 'concat (channels)',
    inputs: (rng) => {
      const [n, h, w] = [1 + Math.floor(rng() * 3), 2 + Math.floor(rng() * 5), 2 + Math.floor(rng() * 5)];
      return { shapes: [[n, h, w, 1 + Math.floor(rng() * 4)], [n, h, w, 1 + Math.floor(rng() * 4)], [n, h, w, 1 + Math.floor(rng() * 4)]], attrs: {} };
    },
    f: (xs) => tf.concat(xs, 3).square(),
  },
  { name: 'relu6', inputs: (rng) => ({ shapes: [[3, 1 + Math.floor(rng() * 40)]], attrs: {} }), f: ([x]) => tf.relu6(tf.mul(x!, 8)) },
  { name: 'sigmoid', inputs: (rng) => ({ shapes: [[3, 1 + Math.floor(rng() * 40)]], attrs: {} }), f: ([x]) => tf.sigmoid(tf.mul(x!, 4)) },
  { name: 'tanh', inputs: (rng) => ({ shapes: [[3, 1 + Math.floor(rng() * 40)]], attrs: {} }), f: ([x]) => tf.tanh(tf.mul(x!, 4)) },
  {
    name: 'localResponseNormalization',
    inputs: (rng) => ({ shapes: [[1 + Math.floor(rng() * 2), 2 + Math.floor(rng() * 4), 2 + Math.floor(rng() * 4), 3 + Math.floor(rng() * 8)]], attrs: {} }),
    f: ([x]) => tf.localResponseNormalization(tf.mul(x!, 3) as tf.Tensor4D, 2, 2, 1e-4 / 5 * 1e3, 0.75),
  },
  {
    name: 'pad with -Infinity, then maxPool',
    inputs: (rng) => ({ shapes: [[1 + Math.floor(rng() * 2), 3 + Math.floor(rng() * 6), 3 + Math.floor(rng() * 6), 1 + Math.floor(rng() * 4)]], attrs: {} }),
    f: ([x]) => tf.maxPool(tf.pad(x as tf.Tensor4D, [[0, 0], [1, 1], [1, 1], [0, 0]], -Infinity), 3, 2, 'valid'),
  },
];

async function opGradients(backend: 'wasm' | 'cpu', op: Op, cases: { values: number[][]; shapes: number[][]; attrs: Record<string, unknown> }[]): Promise<number[][][]> {
  await useBackend(backend);
  return cases.map((c) =>
    tf.tidy(() => {
      const xs = c.values.map((v, i) => tf.tensor(v, c.shapes[i]));
      // A random projection of the output, so that every output's gradient differs.
      const grads = tf.grads((...ts: tf.Tensor[]) => {
        const y = op.f(ts, c.attrs);
        const r = tf.sin(tf.range(0, y.size).reshape(y.shape).mul(1.7));
        // (plus y^2: the gradient then depends on the forward output too)
        return tf.add(tf.sum(tf.mul(y, r)), tf.mul(tf.sum(tf.square(y)), 0.1)) as tf.Scalar;
      })(xs);
      return grads.map((g) => Array.from(g.dataSync()));
    }),
  );
}

for (const op of OPS) {
  test.serial(`wasm gradient of ${op.name} matches the cpu backend on random shapes`, async (t) => {
    const rng = seedrandom(`dalab/ops/${op.name}`);
    const cases = Array.from({ length: 8 }, (_, i) => {
      const { shapes, attrs } = op.inputs(rng, i);
      return { shapes, attrs, values: shapes.map((s) => Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => rng() * 2 - 1)) };
    });
    const cpu = await opGradients('cpu', op, cases);
    const wasm = await opGradients('wasm', op, cases);
    t.is(tf.getBackend(), 'wasm');
    cases.forEach((c, i) => {
      c.shapes.forEach((s, j) => {
        const e = relativeError(cpu[i]![j]!, wasm[i]![j]!);
        t.true(e < 1e-4, `input ${j} of ${JSON.stringify(c.shapes)} ${JSON.stringify(c.attrs)}: relative error ${e.toExponential(2)}`);
      });
    });
  });
}
