/** Evaluation: accuracy, per-class accuracy and expected calibration error on a labelled set. */
import * as tf from '@tensorflow/tfjs';
import { sequentialBatches } from '../data/batches.js';
import type { ImageSet } from '../data/types.js';

export interface Evaluation {
  accuracy: number;
  perClass: number[];
  /** Expected calibration error, 15 equal-width confidence bins (Guo et al. 2017). */
  ece: number;
  count: number;
  /** confusion[true][predicted] */
  confusion: number[][];
}

export const ECE_BINS = 15;

export function expectedCalibrationError(confidence: Float32Array, correct: Uint8Array, bins = ECE_BINS): number {
  const sumConf = new Float64Array(bins);
  const sumCorrect = new Float64Array(bins);
  const counts = new Float64Array(bins);
  for (let i = 0; i < confidence.length; i++) {
    const b = Math.min(bins - 1, Math.floor(confidence[i]! * bins));
    sumConf[b] += confidence[i]!;
    sumCorrect[b] += correct[i]!;
    counts[b]++;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++) {
    if (counts[b] === 0) continue;
    ece += (counts[b]! / confidence.length) * Math.abs(sumCorrect[b]! / counts[b]! - sumConf[b]! / counts[b]!);
  }
  return ece;
}

export async function evaluate(predict: (x: tf.Tensor4D) => tf.Tensor2D, set: ImageSet, numClasses: number, batchSize = 256): Promise<Evaluation> {
  const confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  const confidence = new Float32Array(set.count);
  const correct = new Uint8Array(set.count);
  let offset = 0;
  for (const batch of sequentialBatches(set, batchSize)) {
    const [predicted, maxProb] = tf.tidy(() => {
      const probs = tf.softmax(predict(batch.x));
      return [probs.argMax(1), probs.max(1)] as const;
    });
    batch.x.dispose();
    const predictedValues = (await predicted.data()) as Int32Array;
    const probValues = (await maxProb.data()) as Float32Array;
    predicted.dispose();
    maxProb.dispose();
    for (let i = 0; i < batch.labels.length; i++) {
      const truth = batch.labels[i]!;
      const guess = predictedValues[i]!;
      confusion[truth]![guess]!++;
      confidence[offset + i] = probValues[i]!;
      correct[offset + i] = truth === guess ? 1 : 0;
    }
    offset += batch.labels.length;
  }
  let hits = 0;
  const perClass = confusion.map((row, k) => {
    hits += row[k]!;
    const total = row.reduce((a, b) => a + b, 0);
    return total === 0 ? NaN : row[k]! / total;
  });
  return { accuracy: set.count === 0 ? NaN : hits / set.count, perClass, ece: expectedCalibrationError(confidence, correct), count: set.count, confusion };
}

/** Softmax outputs [count, numClasses] row-major, batch by batch (labels are not read). */
export async function predictProbabilities(predict: (x: tf.Tensor4D) => tf.Tensor2D, set: ImageSet, numClasses: number, batchSize = 256): Promise<Float32Array> {
  const out = new Float32Array(set.count * numClasses);
  let offset = 0;
  for (const batch of sequentialBatches(set, batchSize)) {
    const probs = tf.tidy(() => tf.softmax(predict(batch.x)));
    batch.x.dispose();
    out.set((await probs.data()) as Float32Array, offset * numClasses);
    probs.dispose();
    offset += batch.labels.length;
  }
  return out;
}
