/**
 * Domain splits, the same for every strategy for a given seed (README, "Datasets and splits"):
 * - `train`: the pool (target: what unsupervised strategies see without labels);
 * - `labelled`: N per class drawn stratified from the pool by the seed (target only);
 * - `val`: held-out labelled part of the training data (the dataset's own, or every 10th image of
 *   each class of the pool, which then leaves the pool);
 * - `test`: the official test split, only for reporting.
 */
import seedrandom from 'seedrandom';
import { UserError, messages } from '../messages.js';
import { toInputShape } from './preprocess.js';
import { setChannelStats, subset, type DomainSource, type ImageSet, type Normalization } from './types.js';

export interface DomainSplits {
  name: string;
  numClasses: number;
  train: ImageSet;
  val: ImageSet;
  test: ImageSet;
}

export interface TargetSplits extends DomainSplits {
  /** The labelled target subset (`target.labels`), empty when 0. */
  labelled: ImageSet;
}

function carveValidation(train: ImageSet, numClasses: number): { train: ImageSet; val: ImageSet } {
  const seen = new Array<number>(numClasses).fill(0);
  const keep: number[] = [];
  const val: number[] = [];
  for (let i = 0; i < train.count; i++) {
    const label = train.labels[i]!;
    (seen[label]! % 10 === 9 ? val : keep).push(i);
    seen[label] = seen[label]! + 1;
  }
  return { train: subset(train, keep), val: subset(train, val) };
}

export function makeSplits(source: DomainSource, input: readonly [number, number, number]): DomainSplits {
  let { train } = source;
  let val = source.val;
  if (val == null) ({ train, val } = carveValidation(train, source.numClasses));
  return {
    name: source.name,
    numClasses: source.numClasses,
    train: toInputShape(train, input),
    val: toInputShape(val, input),
    test: toInputShape(source.test, input),
  };
}

/** `count` of `items` drawn uniformly (partial Fisher-Yates: the first `count` entries of a shuffle). */
function uniformSample(items: readonly number[], count: number, rng: () => number): number[] {
  const pool = items.slice();
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rng() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, count);
}

/**
 * Indices of `perClass` images of each class, drawn from the pool with the seed. Depends only on
 * (labels, perClass, seed): every strategy of a sweep sees the same labelled images.
 */
export function stratifiedSample(labels: Int32Array, numClasses: number, perClass: number, seed: number): number[] {
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  labels.forEach((label, i) => byClass[label]!.push(i));
  const rng = seedrandom(`dalab/labelled/${seed}`);
  const chosen: number[] = [];
  byClass.forEach((indices, cls) => {
    if (indices.length < perClass) throw new UserError(messages.tooFewLabels(perClass, cls, indices.length));
    chosen.push(...uniformSample(indices, perClass, rng));
  });
  return chosen.sort((a, b) => a - b);
}

/**
 * Label shift (`target.priors`): the indices of the largest subsample of `labels` whose class
 * proportions are `priors` (normalised): m = min over classes with p_k > 0 of n_k / p_k images in all,
 * floor(m p_k) of class k, each class's drawn uniformly with the seed. Sorted.
 */
export function priorSubsample(labels: Int32Array, priors: readonly number[], seed: string): number[] {
  const total = priors.reduce((a, b) => a + b, 0);
  const p = priors.map((v) => v / total);
  const byClass: number[][] = p.map(() => []);
  labels.forEach((label, i) => byClass[label]?.push(i));
  let m = Infinity;
  p.forEach((pk, k) => {
    if (pk > 0) m = Math.min(m, byClass[k]!.length / pk);
  });
  const rng = seedrandom(`dalab/priors/${seed}`);
  const chosen: number[] = [];
  byClass.forEach((indices, k) => {
    chosen.push(...uniformSample(indices, Math.min(indices.length, Math.floor(m * p[k]! + 1e-9)), rng));
  });
  return chosen.sort((a, b) => a - b);
}

export function makeTargetSplits(source: DomainSource, input: readonly [number, number, number], labels: number | 'all', seed: number, priors?: readonly number[]): TargetSplits {
  let splits = makeSplits(source, input);
  if (priors != null) {
    if (priors.length !== splits.numClasses) throw new UserError(`target.priors: ${priors.length} proportions for ${splits.numClasses} classes of ${splits.name} (one per class, in label order)`);
    splits = {
      ...splits,
      train: subset(splits.train, priorSubsample(splits.train.labels, priors, `${seed}/train`)),
      test: subset(splits.test, priorSubsample(splits.test.labels, priors, `${seed}/test`)),
    };
  }
  let labelled: ImageSet;
  if (labels === 'all') labelled = splits.train;
  else if (labels === 0) labelled = subset(splits.train, []);
  else labelled = subset(splits.train, stratifiedSample(splits.train.labels, splits.numClasses, labels, seed));
  return { ...splits, labelled };
}

/**
 * Sets every split's normalisation (model.normalize): unit leaves bytes / 255; symmetric maps to
 * [-1, 1]; domain standardises each channel with the mean and std of that domain's own training
 * images (source and target each with their own statistics, never the test images'); instance
 * standardises every image per channel with its own mean and std (no statistics shared).
 */
/** torchvision's ImageNet statistics (`model.normalize: imagenet`): exactly (x / 255 - mean) / std. */
export const IMAGENET_NORMALIZATION: Normalization = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

export function normalizeDomain<T extends DomainSplits>(splits: T, mode: 'unit' | 'symmetric' | 'domain' | 'instance' | 'imagenet'): T {
  if (mode === 'unit') return splits;
  const c = splits.train.channels;
  let normalization: Normalization;
  if (mode === 'imagenet') {
    if (c !== 3) throw new Error(`normalize imagenet needs 3 channels, the images have ${c}`);
    normalization = IMAGENET_NORMALIZATION;
  } else if (mode === 'symmetric') normalization = { mean: Array(c).fill(0.5), std: Array(c).fill(0.5) };
  else if (mode === 'instance') normalization = { mean: Array(c).fill(0), std: Array(c).fill(1), perImage: true };
  else {
    normalization = setChannelStats(splits.train);
  }
  const out = { ...splits } as T & Record<string, unknown>;
  for (const key of Object.keys(out)) {
    const v = out[key] as ImageSet | undefined;
    if (v != null && typeof v === 'object' && 'images' in v) (out as Record<string, unknown>)[key] = { ...v, normalization };
  }
  return out;
}
