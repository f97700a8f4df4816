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
