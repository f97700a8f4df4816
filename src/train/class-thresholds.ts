/**
 * Per-class confidence thresholds (FlexMatch's curriculum, Zhang et al. 2021, without its warm-up):
 * a class whose pseudo-labels have rarely been confident gets a lower threshold, so self-training
 * and distillation do not feed only the classes the network already finds easy.
 *
 *   beta_c = n_c / max(max_c n_c, 1)          n_c: confident pseudo-labels of class c so far
 *   tau_c  = threshold * beta_c / (2 - beta_c)
 *
 * The counts live on the device (no read per step) and are part of a strategy's resume state.
 * Used by `selftrain` (`balanced`) and `distill` (`classThresholds`).
 */
import * as tf from '@tensorflow/tfjs';

export class ClassThresholds {
  private readonly counts: tf.Variable;

  constructor(
    private readonly numClasses: number,
    private readonly threshold: number,
  ) {
    this.counts = tf.tidy(() => tf.zeros([numClasses]).variable(false));
  }

  /** The threshold of each image's pseudo-label: labels int32 [B] -> [B]. */
  perImage(labels: tf.Tensor1D): tf.Tensor1D {
    const beta = tf.div(this.counts, tf.maximum(tf.max(this.counts), 1));
    const perClass = tf.mul(this.threshold, tf.div(beta, tf.sub(2, beta)));
    return tf.gather(perClass, labels) as tf.Tensor1D;
  }

  /** Adds a batch's confident pseudo-labels (mask [B], 1 = confident) to the counts. */
  count(labels: tf.Tensor1D, mask: tf.Tensor1D): void {
    this.counts.assign(tf.add(this.counts, tf.sum(tf.mul(tf.oneHot(labels, this.numClasses), tf.expandDims(mask, 1)), 0)));
  }

  state(): number[] {
    return Array.from(this.counts.dataSync());
  }

  load(counts: number[]): void {
    tf.tidy(() => this.counts.assign(tf.tensor1d(counts)));
  }

  dispose(): void {
    this.counts.dispose();
  }
}
