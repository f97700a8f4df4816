/** `usps`: the 16x16 USPS digits of The Elements of Statistical Learning, after `dalab data download usps`. */
import * as path from 'node:path';
import type { DownloadableProvider } from '../dataset.js';
import { requireCached } from '../cache.js';
import { readUspsFile } from '../usps.js';

const ESL = ['https://hastie.su.domains/ElemStatLearn/datasets/', 'https://web.stanford.edu/~hastie/ElemStatLearn/datasets/'];

export const uspsDataset: DownloadableProvider = {
  name: 'usps',
  kind: 'download',
  description: 'USPS digits of The Elements of Statistical Learning, zip.train.gz (7,291) / zip.test.gz (2,007), 16x16 grey',
  // No checksum is published with these files: they are checked by structure when loaded (7,291 /
  // 2,007 lines of a label and 256 values), and `data info usps` prints their sha256.
  files: [
    { name: 'zip.train.gz', urls: ESL.map((u) => u + 'zip.train.gz') },
    { name: 'zip.test.gz', urls: ESL.map((u) => u + 'zip.test.gz') },
  ],
  check: (_, field) => void requireCached(uspsDataset, field),
  load: (_, field) => {
    const dir = requireCached(uspsDataset, field);
    return { name: 'usps', numClasses: 10, train: readUspsFile(path.join(dir, 'zip.train.gz')), test: readUspsFile(path.join(dir, 'zip.test.gz')) };
  },
};
