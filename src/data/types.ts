import { createHash } from 'node:crypto';

/** Images stay bytes (`Uint8Array`, NHWC) until a batch becomes a tensor. */
export interface ImageSet {
  /** count * height * width * channels bytes, image after image, row-major, channels last. */
  images: Uint8Array;
  labels: Int32Array;
  count: number;
  height: number;
  width: number;
  channels: number;
}

/** A domain as a dataset provides it: official train and test parts. */
export interface DomainSource {
  name: string;
  numClasses: number;
  train: ImageSet;
  test: ImageSet;
  /** A validation part the dataset defines itself; otherwise carved from `train` (see splits.ts). */
  val?: ImageSet;
}

export function imageSize(set: Pick<ImageSet, 'height' | 'width' | 'channels'>): number {
  return set.height * set.width * set.channels;
}

/** Copies the images at `indices` into a new set. */
export function subset(set: ImageSet, indices: ArrayLike<number>): ImageSet {
  const size = imageSize(set);
  const images = new Uint8Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i]!;
    images.set(set.images.subarray(j * size, (j + 1) * size), i * size);
    labels[i] = set.labels[j]!;
  }
  return { images, labels, count: indices.length, height: set.height, width: set.width, channels: set.channels };
}

export function classCounts(labels: Int32Array, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (const label of labels) counts[label] = (counts[label] ?? 0) + 1;
  return counts;
}

/** A short content hash of a set (images, labels and shape): the data's identity in a run's tags. */
export function fingerprint(set: ImageSet): string {
  const hash = createHash('sha256');
  hash.update(`${set.count}x${set.height}x${set.width}x${set.channels}`);
  hash.update(set.images);
  hash.update(new Uint8Array(set.labels.buffer, set.labels.byteOffset, set.labels.byteLength));
  return hash.digest('hex').slice(0, 16);
}
