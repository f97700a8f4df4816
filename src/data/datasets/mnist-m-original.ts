/** `mnist-m-original`: the original MNIST-M files (mnist_m.tar.gz, BSDS500 patches), after `dalab data download mnist-m-original` or `data import`. */
import * as path from 'node:path';
import type { DownloadableProvider } from '../dataset.js';
import { requireCached } from '../cache.js';
import { readMnistMArchive } from '../mnistm-original.js';

export const mnistMOriginalDataset: DownloadableProvider = {
  name: 'mnist-m-original',
  kind: 'download',
  description: 'the original MNIST-M (Ganin et al. 2016; BSDS500 photo patches), mnist_m.tar.gz: 59,001 train / 9,001 test, 28x28 RGB',
  files: [
    // The copy pytorch-adapt downloads, with its md5; the authors' own link is a Google Drive page.
    { name: 'mnist_m.tar.gz', urls: ['https://cornell.box.com/shared/static/jado7quprg6hzzdubvwzh9umr75damwi'], md5: '859df31c91afe82e80e5012ba928f279' },
  ],
  check: (_, field) => void requireCached(mnistMOriginalDataset, field),
  load: (_, field) => {
    const dir = requireCached(mnistMOriginalDataset, field);
    return { name: 'mnist-m-original', numClasses: 10, ...readMnistMArchive(path.join(dir, 'mnist_m.tar.gz')) };
  },
};
