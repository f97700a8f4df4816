/**
 * Seeded batching: each stream walks a fresh permutation of its set every epoch. The stream state
 * (permutation seed, epoch, position, and the state of the per-image augmentation generator) is
 * explicit: a resumed run restores it (state() / restore()) and draws the same batches on.
 */
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { imageSize, toFloats, type ImageSet } from './types.js';

export interface Batch {
  x: tf.Tensor4D;
  /** One-hot labels. */
  y: tf.Tensor2D;
  /** Each image's index in its set (BatchStream's batches). */
  indices?: Int32Array;
}

/** Where a stream stands: the epoch (whose permutation is derived from the seed), the position in it, the augmentation generator. */
export interface StreamState {
  epoch: number;
  position: number;
  augment: seedrandom.State.Arc4;
}

export class BatchStream {
  private order: Int32Array;
  private augmentRng: seedrandom.StatefulPRNG<seedrandom.State.Arc4>;
  private position = 0;
  private epoch = 0;

  constructor(
    private readonly set: ImageSet,
    private readonly batchSize: number,
    private readonly numClasses: number,
    private readonly seed: string,
    /** Probability of inverting an image's intensities (v -> 1 - v), drawn per image. */
    private readonly invertProbability = 0,
  ) {
    if (set.count === 0) throw new Error('cannot draw batches from an empty set');
    this.augmentRng = seedrandom(`${seed}/augment`, { state: true });
    this.order = this.permutation();
  }

  private permutation(): Int32Array {
    const rng = seedrandom(`${this.seed}/epoch/${this.epoch}`);
    const order = new Int32Array(this.set.count);
    for (let i = 0; i < order.length; i++) order[i] = i;
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    return order;
  }

  /** The next batch as tensors (owned by the caller); pixels in [0, 1], or normalised (types.ts). */
  next(): Batch {
    const size = imageSize(this.set);
    const { labels } = this.set;
    // Fresh buffers per batch: the cpu backend keeps a reference to the array a tensor is made from.
    const floats = new Float32Array(this.batchSize * size);
    const onehot = new Float32Array(this.batchSize * this.numClasses);
    const indices = new Int32Array(this.batchSize);
    for (let b = 0; b < this.batchSize; b++) {
      if (this.position >= this.order.length) {
        this.epoch++;
        this.order = this.permutation();
        this.position = 0;
      }
      const index = this.order[this.position++]!;
      indices[b] = index;
      const invert = this.invertProbability > 0 && this.augmentRng() < this.invertProbability;
      toFloats(this.set, index, 1, floats, b * size, invert);
      onehot[b * this.numClasses + labels[index]!] = 1;
    }
    const { height, width, channels } = this.set;
    return {
      x: tf.tensor4d(floats, [this.batchSize, height, width, channels]),
      y: tf.tensor2d(onehot, [this.batchSize, this.numClasses]),
      indices,
    };
  }

  state(): StreamState {
    return { epoch: this.epoch, position: this.position, augment: this.augmentRng.state() };
  }

  /** Continues from a state() of a stream over the same set, batch size and seed. */
  restore(state: StreamState): void {
    if (!(state.position >= 0 && state.position <= this.set.count)) throw new Error(`a batch stream position ${state.position} outside its set of ${this.set.count}`);
    this.epoch = state.epoch;
    this.order = this.permutation();
    this.position = state.position;
    this.augmentRng = seedrandom('', { state: state.augment });
  }
}

/** Iterates a whole set in order, `batchSize` images at a time (evaluation). */
export function* sequentialBatches(set: ImageSet, batchSize: number): Generator<{ x: tf.Tensor4D; labels: Int32Array }> {
  const size = imageSize(set);
  for (let start = 0; start < set.count; start += batchSize) {
    const end = Math.min(set.count, start + batchSize);
    const floats = new Float32Array((end - start) * size);
    toFloats(set, start, end - start, floats);
    yield { x: tf.tensor4d(floats, [end - start, set.height, set.width, set.channels]), labels: set.labels.subarray(start, end) };
  }
}

/** A set's images in order, `batchSize` at a time, without their labels (tensors owned by the caller). */
export function* imagesOf(set: ImageSet, batchSize: number): Generator<tf.Tensor4D> {
  for (const batch of sequentialBatches(set, batchSize)) yield batch.x;
}
