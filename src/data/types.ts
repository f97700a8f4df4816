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
  /** Per-channel input normalisation, float = (byte / 255 - mean) / std (absent: byte / 255). */
  normalization?: Normalization;
}

export interface Normalization {
  mean: number[];
  std: number[];
}

/** float = byte * scale[c] + offset[c] for channel c: the one byte -> float mapping of a set. */
export function pixelTransform(set: Pick<ImageSet, 'channels' | 'normalization'>): { scale: Float32Array; offset: Float32Array } {
  const scale = new Float32Array(set.channels);
  const offset = new Float32Array(set.channels);
  for (let c = 0; c < set.channels; c++) {
    const mean = set.normalization?.mean[c] ?? 0;
    const std = set.normalization?.std[c] ?? 1;
    scale[c] = 1 / (255 * std);
    offset[c] = -mean / std;
  }
  return { scale, offset };
}

/** Converts `count` images starting at image `first` to floats (optionally inverted: byte -> 255 - byte). */
export function toFloats(set: ImageSet, first: number, count: number, out: Float32Array, outOffset = 0, invert = false): void {
  const { scale, offset } = pixelTransform(set);
  const c = set.channels;
  const start = first * imageSize(set);
  const n = count * imageSize(set);
  for (let p = 0; p < n; p++) {
    const k = p % c;
    const b = set.images[start + p]!;
    out[outOffset + p] = (invert ? 255 - b : b) * scale[k]! + offset[k]!;
  }
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
  return { images, labels, count: indices.length, height: set.height, width: set.width, channels: set.channels, ...(set.normalization != null ? { normalization: set.normalization } : {}) };
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
