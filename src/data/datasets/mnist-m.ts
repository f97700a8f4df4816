/** `mnist-m`: MNIST-M's construction (Ganin et al. 2016) on mnist-10k, over textures dalab renders (mnistm.ts). */
import type { DatasetProvider } from '../dataset.js';
import { loadMnistM } from '../mnistm.js';

export const mnistMDataset: DatasetProvider = {
  name: 'mnist-m',
  kind: 'rendered',
  description: "mnist-10k's digits blended over procedural colour textures, |patch - digit| (MNIST-M's construction; 28x28 RGB, mnist-10k's splits)",
  check: () => undefined,
  load: () => loadMnistM(),
};
