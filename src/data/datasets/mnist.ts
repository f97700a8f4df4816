/** `mnist`: the official 60,000 / 10,000 IDX files, after `dalab data download mnist`. */
import type { DownloadableProvider } from '../dataset.js';
import { requireCached, type RemoteFile } from '../cache.js';
import { loadIdxFolder } from './idx.js';

const LECUN = 'http://yann.lecun.com/exdb/mnist/';
const OSSCI = 'https://ossci-datasets.s3.amazonaws.com/mnist/';
const CVDF = 'https://storage.googleapis.com/cvdf-datasets/mnist/';

const mnistFile = (name: string, md5: string, bytes: number): RemoteFile => ({ name, urls: [OSSCI + name, CVDF + name, LECUN + name], md5, bytes });

export const mnistDataset: DownloadableProvider = {
  name: 'mnist',
  kind: 'download',
  description: 'MNIST, the official 60,000 / 10,000 IDX files (28x28 grey)',
  files: [
    mnistFile('train-images-idx3-ubyte.gz', 'f68b3c2dcbeaaa9fbdd348bbdeb94873', 9912422),
    mnistFile('train-labels-idx1-ubyte.gz', 'd53e105ee54ea40749a09fcbcd1e9432', 28881),
    mnistFile('t10k-images-idx3-ubyte.gz', '9fb629c4189551a2d022fa330f9573f3', 1648877),
    mnistFile('t10k-labels-idx1-ubyte.gz', 'ec29112dd5afa0611ce80d1b7f02629c', 4542),
  ],
  check: (_, field) => void requireCached(mnistDataset, field),
  load: (_, field) => ({ ...loadIdxFolder(requireCached(mnistDataset, field), field), name: 'mnist', numClasses: 10 }),
};
