/**
 * BNM's nuclear norm (Newton-Schulz on the Gram matrix, losses/confusion.ts) against an SVD known by
 * construction: A = U diag(s) V^T with orthonormal U, V. The nuclear norm is sum(s); where A has
 * full rank its gradient is U V^T, and on a rank-deficient A (the collapsed predictions that BNM
 * meets when a weak source model predicts few classes) the gradient that SVD-based autograd gives
 * (torch.norm(A, 'nuc'), BNM's reference code) is U_r V_r^T over the non-zero singular values.
 */
import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { nuclearNorm } from '../../src/losses/confusion.js';
import { useBackend } from '../helpers.js';

/** n orthonormal columns of length m (Gram-Schmidt on seeded Gaussian vectors), row-major [m][n]. */
function orthonormal(m: number, n: number, seed: string): number[][] {
  const rng = seedrandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const cols: number[][] = [];
  while (cols.length < n) {
    let v = Array.from({ length: m }, gauss);
    for (const c of cols) {
      const dot = v.reduce((s, x, i) => s + x * c[i]!, 0);
      v = v.map((x, i) => x - dot * c[i]!);
    }
    const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    cols.push(v.map((x) => x / norm));
  }
  return Array.from({ length: m }, (_, i) => cols.map((c) => c[i]!));
}

function compose(u: number[][], s: number[], v: number[][]): number[][] {
  return u.map((row) => v.map((vrow) => s.reduce((acc, sk, k) => acc + row[k]! * sk * vrow[k]!, 0)));
}

const cases: { name: string; rows: number; cols: number; s: number[] }[] = [
  { name: 'full rank, batch wider than the classes', rows: 16, cols: 10, s: [0.9, 0.7, 0.6, 0.5, 0.4, 0.35, 0.3, 0.2, 0.15, 0.1] },
  { name: 'rank 3 of 10 (collapsed predictions)', rows: 16, cols: 10, s: [1.2, 0.5, 0.2, 0, 0, 0, 0, 0, 0, 0] },
  { name: 'rank 2 of 6, batch narrower than the classes', rows: 6, cols: 10, s: [0.8, 0.3, 0, 0, 0, 0] },
];

for (const c of cases) {
  test.serial(`nuclear norm and its gradient equal the SVD's: ${c.name}`, async (t) => {
    await useBackend('wasm');
    const k = c.s.length;
    const u = orthonormal(c.rows, k, `${c.name}/u`);
    const v = orthonormal(c.cols, k, `${c.name}/v`);
    const a = tf.tensor2d(compose(u, c.s, v));
    const value = nuclearNorm(a);
    const gradient = tf.grad((x: tf.Tensor) => nuclearNorm(x as tf.Tensor2D))(a);
    const expected = c.s.reduce((x, y) => x + y, 0);
    t.true(Math.abs(value.dataSync()[0]! - expected) < 1e-3, `value ${value.dataSync()[0]} vs ${expected}`);
    // U_r V_r^T over the non-zero singular values.
    const rank = c.s.filter((x) => x > 0).length;
    const want = compose(u, c.s.map((x, i) => (i < rank ? 1 : 0)), v);
    const got = gradient.arraySync() as number[][];
    let worst = 0;
    for (let i = 0; i < c.rows; i++) for (let j = 0; j < c.cols; j++) worst = Math.max(worst, Math.abs(got[i]![j]! - want[i]![j]!));
    t.true(worst < 2e-2, `largest gradient error ${worst}`);
    tf.dispose([a, value, gradient]);
  });
}
