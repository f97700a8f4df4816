/** `svhn`: the official cropped-digit files train_32x32.mat / test_32x32.mat, after `dalab data download svhn`. */
import * as path from 'node:path';
import type { DownloadableProvider } from '../dataset.js';
import { requireCached } from '../cache.js';
import { readSvhnFile } from '../svhn.js';

const SVHN = 'http://ufldl.stanford.edu/housenumbers/';

export const svhnDataset: DownloadableProvider = {
  name: 'svhn',
  kind: 'download',
  description: 'SVHN cropped digits, train_32x32.mat (73,257) / test_32x32.mat (26,032), 32x32 RGB',
  files: [
    { name: 'train_32x32.mat', urls: [SVHN + 'train_32x32.mat'], md5: 'e26dedcc434d2e4c54c9b2d4a06d8373' },
    { name: 'test_32x32.mat', urls: [SVHN + 'test_32x32.mat'], md5: 'eb5a983be6a315427106f1b164d9cef3' },
    { name: 'extra_32x32.mat', urls: [SVHN + 'extra_32x32.mat'], md5: 'a93ce644f1a588dc4d68dda5feec44a7', optional: true },
  ],
  check: (_, field) => void requireCached(svhnDataset, field),
  load: (_, field) => {
    const dir = requireCached(svhnDataset, field);
    return { name: 'svhn', numClasses: 10, train: readSvhnFile(path.join(dir, 'train_32x32.mat')), test: readSvhnFile(path.join(dir, 'test_32x32.mat')) };
  },
};
