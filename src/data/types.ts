import { createHash } from 'node:crypto';
import { convertImage } from './preprocess.js';

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
  /**
   * Bytes kept at their stored shape, smaller than the model's input (height x width x channels
   * above): `images` hold count * stored.height * stored.width * stored.channels bytes and every
   * conversion to floats brings each image to the input shape first (preprocess.ts), exactly as a
   * conversion at load would. Digits at 224x224 never sit in memory at that size.
   */
  stored?: StoredShape;
}

export interface StoredShape {
  height: number;
  width: number;
  channels: number;
}

export interface Normalization {
  mean: number[];
  std: number[];
  /** Standardise each image per channel with its own mean and std (`mean`/`std` unused). */
  perImage?: boolean;
}

/** Converts `count` images starting at image `first` to floats (optionally inverted: v -> 1 - v): byte / 255, then (v - mean[c]) / std[c] when the set is normalised (each image's own mean and std with `perImage`). */
export function toFloats(set: ImageSet, first: number, count: number, out: Float32Array, outOffset = 0, invert = false): void {
  if (set.stored != null) {
    const size = imageSize(set);
    const one = inputBytes(set, first, count);
    for (let i = 0; i < count; i++) toFloats(one(i), 0, 1, out, outOffset + i * size, invert);
    return;
  }
  const start = first * imageSize(set);
  const n = count * imageSize(set);
  const norm = set.normalization;
  if (norm == null) {
    for (let p = 0; p < n; p++) {
      const b = set.images[start + p]!;
      out[outOffset + p] = invert ? 1 - b / 255 : b / 255;
    }
    return;
  }
  const c = set.channels;
  if (norm.perImage === true) {
    const size = imageSize(set);
    for (let i = 0; i < count; i++) standardiseImage(set.images, start + i * size, size, c, out, outOffset + i * size, invert);
    return;
  }
  for (let p = 0; p < n; p++) {
    const k = p % c;
    const b = set.images[start + p]!;
    out[outOffset + p] = ((invert ? 1 - b / 255 : b / 255) - norm.mean[k]!) / norm.std[k]!;
  }
}

/**
 * Per-channel mean and std (std floored at 1e-3) of `size` bytes from `from` as floats byte / 255
 * (inverted, 1 - byte / 255, with `invert`): a whole training set or a single image.
 */
export function channelStats(bytes: Uint8Array, from: number, size: number, c: number, invert = false): Normalization {
  const sum = new Float64Array(c);
  const sq = new Float64Array(c);
  accumulate(bytes, from, size, c, invert, sum, sq);
  return finish(sum, sq, size / c);
}

function accumulate(bytes: Uint8Array, from: number, size: number, c: number, invert: boolean, sum: Float64Array, sq: Float64Array): void {
  for (let p = 0; p < size; p++) {
    const b = bytes[from + p]!;
    const v = invert ? 1 - b / 255 : b / 255;
    sum[p % c] += v;
    sq[p % c] += v * v;
  }
}

function finish(sum: Float64Array, sq: Float64Array, n: number): Normalization {
  const mean = Array.from(sum, (s) => s / n);
  return { mean, std: Array.from(sq, (s, k) => Math.max(1e-3, Math.sqrt(Math.max(0, s / n - mean[k]! ** 2)))) };
}

/** One image, each channel standardised with its own mean and std. */
function standardiseImage(bytes: Uint8Array, from: number, size: number, c: number, out: Float32Array, to: number, invert: boolean): void {
  const { mean, std } = channelStats(bytes, from, size, c, invert);
  for (let p = 0; p < size; p++) {
    const k = p % c;
    const b = bytes[from + p]!;
    out[to + p] = ((invert ? 1 - b / 255 : b / 255) - mean[k]!) / std[k]!;
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

/** Bytes one image takes in `images` (its stored shape when the set keeps one). */
export function storedSize(set: ImageSet): number {
  return imageSize(set.stored ?? set);
}

/**
 * Images `first + i` of a set that keeps its stored shape, each as a one-image set at the input
 * shape (one scratch buffer, overwritten by the next call).
 */
function inputBytes(set: ImageSet, first: number, count: number): (i: number) => ImageSet {
  const stored = set.stored!;
  const inSize = imageSize(stored);
  const bytes = new Uint8Array(imageSize(set));
  const scratch = new Uint8Array(set.height * set.width * stored.channels);
  const { stored: _, ...shape } = set;
  return (i) => {
    if (i < 0 || i >= count) throw new RangeError(`image ${i} outside 0..${count - 1}`);
    const from = (first + i) * inSize;
    convertImage(set.images.subarray(from, from + inSize), stored, bytes, set, scratch);
    return { ...shape, images: bytes, labels: set.labels.subarray(first + i, first + i + 1), count: 1 };
  };
}

/** Per-channel mean and std of a whole set as the model sees it (at its input shape, as channelStats). */
export function setChannelStats(set: ImageSet): Normalization {
  if (set.stored == null) return channelStats(set.images, 0, set.images.length, set.channels);
  const c = set.channels;
  const sum = new Float64Array(c);
  const sq = new Float64Array(c);
  const one = inputBytes(set, 0, set.count);
  for (let i = 0; i < set.count; i++) accumulate(one(i).images, 0, imageSize(set), c, false, sum, sq);
  return finish(sum, sq, (set.count * imageSize(set)) / c);
}

/** Copies the images at `indices` into a new set. */
export function subset(set: ImageSet, indices: ArrayLike<number>): ImageSet {
  const size = storedSize(set);
  const images = new Uint8Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i]!;
    images.set(set.images.subarray(j * size, (j + 1) * size), i * size);
    labels[i] = set.labels[j]!;
  }
  return {
    images,
    labels,
    count: indices.length,
    height: set.height,
    width: set.width,
    channels: set.channels,
    ...(set.normalization != null ? { normalization: set.normalization } : {}),
    ...(set.stored != null ? { stored: set.stored } : {}),
  };
}

/** A short content hash of a set (images, labels and shape): the data's identity in a run's tags. */
export function fingerprint(set: ImageSet): string {
  const hash = createHash('sha256');
  // A set kept at its stored shape hashes those bytes and both shapes (no pass at the input size).
  const stored = set.stored != null ? ` stored ${set.stored.height}x${set.stored.width}x${set.stored.channels}` : '';
  hash.update(`${set.count}x${set.height}x${set.width}x${set.channels}${stored}`);
  hash.update(set.images);
  hash.update(new Uint8Array(set.labels.buffer, set.labels.byteOffset, set.labels.byteLength));
  return hash.digest('hex').slice(0, 16);
}
