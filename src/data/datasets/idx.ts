/** `idx:PATH`: a folder in MNIST's own naming (train-images-idx3-ubyte[.gz], ..., test-* or t10k-*), any image size. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError, messages } from '../../messages.js';
import type { DatasetProvider } from '../dataset.js';
import { readIdxFile } from '../idx.js';
import type { DomainSource, ImageSet } from '../types.js';

function findIdxFile(folder: string, prefixes: readonly string[], kind: 'images' | 'labels', field: string): string {
  const suffix = kind === 'images' ? 'images-idx3-ubyte' : 'labels-idx1-ubyte';
  for (const prefix of prefixes) {
    for (const ext of ['', '.gz']) {
      const candidate = path.join(folder, `${prefix}-${suffix}${ext}`);
      if (fs.existsSync(candidate)) return candidate;
    }
  }
  throw new UserError(messages.datasetFileMissing(field, folder, `${prefixes[0]}-${suffix}`));
}

function readIdxPair(folder: string, prefixes: readonly string[], field: string): ImageSet {
  const imageFile = findIdxFile(folder, prefixes, 'images', field);
  const labelFile = findIdxFile(folder, prefixes, 'labels', field);
  const images = readIdxFile(imageFile);
  const labels = readIdxFile(labelFile);
  if (images.dims.length !== 3 && images.dims.length !== 4) {
    throw new UserError(messages.corruptIdx(imageFile, `images must have 3 dimensions (count, height, width) or 4 (+ channels), found ${images.dims.length}`));
  }
  if (labels.dims.length !== 1) throw new UserError(messages.corruptIdx(labelFile, `labels must have 1 dimension, found ${labels.dims.length}`));
  const [count, height, width, channels = 1] = images.dims as [number, number, number, number?];
  if (labels.dims[0] !== count) throw new UserError(messages.corruptIdx(labelFile, `${labels.dims[0]} labels for ${count} images in ${path.basename(imageFile)}`));
  if (channels !== 1 && channels !== 3) throw new UserError(messages.corruptIdx(imageFile, `${channels} channels (expected 1 or 3)`));
  return { images: images.data, labels: Int32Array.from(labels.data), count, height, width, channels };
}

/** Exits 2 naming `field` when `folder` is not a folder. */
export function checkFolder(folder: string, field: string): void {
  if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) throw new UserError(messages.datasetFolderMissing(field, folder));
}

/** train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], test-* (or MNIST's t10k-*) in `folder`. */
export function loadIdxFolder(folder: string, field: string): DomainSource {
  checkFolder(folder, field);
  const train = readIdxPair(folder, ['train'], field);
  const test = readIdxPair(folder, ['test', 't10k'], field);
  let maxLabel = 0;
  for (const l of train.labels) maxLabel = Math.max(maxLabel, l);
  for (const l of test.labels) maxLabel = Math.max(maxLabel, l);
  return { name: `idx:${folder}`, numClasses: maxLabel + 1, train, test };
}

export const idxDataset: DatasetProvider = {
  name: 'idx:',
  kind: 'generic',
  usage: 'idx:PATH',
  description: "a folder in MNIST's naming: train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], test-… or t10k-…",
  check: (folder, field) => checkFolder(path.resolve(folder), field),
  load: (folder, field) => loadIdxFolder(path.resolve(folder), field),
};
