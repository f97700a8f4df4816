/**
 * `selftrain` — FixMatch-style self-training on target images (Sohn et al., "FixMatch: Simplifying
 * Semi-Supervised Learning with Consistency and Confidence", NeurIPS 2020): the network labels the
 * weakly augmented view of each unlabelled target image (the batch as the loop draws it, with
 * `train.augment`), and learns that label on a strongly augmented view (src/data/augment.ts:
 * rotation up to 15 degrees, translation up to 4 px, contrast/brightness jitter, cutout of a quarter
 * of the image) where its confidence reaches the threshold:
 *   loss = CE(source) [+ CE(labelled target)] + weight * mean_i 1[max p_i >= tau_i] CE(strong_i, argmax p_i)
 * (the mean over the whole batch, as FixMatch). tau_i = threshold, or with `balanced: true` a
 * per-class threshold threshold * beta_c / (2 - beta_c), beta_c = the count of confident pseudo-labels
 * of class c so far over the largest such count (FlexMatch's curriculum, Zhang et al. 2021): classes
 * the network rarely predicts confidently get a lower bar, so the pseudo-labels do not collapse onto
 * the easy classes. Defaults: FixMatch's threshold 0.95 and weight 1; balanced thresholds on (with
 * one threshold, self-training on synth-digits -> mnist-10k confirmed the source model's confident
 * mistakes and ended below source-only; the choice was made on seeds 10-11, README).
 */
import { z } from 'zod';
import * as tf from '@tensorflow/tfjs';
import { ClassifierAdapter, defineAdapter, type AdapterContext, type LossTerms, type Monitor, type TrainBatch } from '../src/train/adapter.js';
import { ClassThresholds } from '../src/train/class-thresholds.js';
import { strongAugment } from '../src/data/augment.js';

const NEEDS = { source: true, targetUnlabelled: true, targetLabels: 'optional' } as const;

const options = z
  .object({
    weight: z.number().nonnegative().default(1),
    threshold: z.number().min(0).max(1).default(0.95),
    /** Per-class thresholds (FlexMatch-style) instead of one: the default, chosen on seeds 10-11 (README). */
    balanced: z.boolean().default(true),
  })
  .strict();
type Options = z.infer<typeof options>;

class SelfTrain extends ClassifierAdapter {
  readonly name = 'selftrain';
  readonly needs = NEEDS;
  private step = 0;
  /** Confident pseudo-labels per class so far (balanced thresholds), on the device. */
  private readonly thresholds: ClassThresholds;

  constructor(context: AdapterContext, private readonly options: Options) {
    super(context);
    this.thresholds = new ClassThresholds(context.numClasses, options.threshold);
  }

  /** Pseudo-labels and their mask from the weak view, and the strong view: no gradient, before the gradient scope. */
  override prepare(batch: TrainBatch): Record<string, tf.Tensor> {
    const weak = batch.target!;
    this.step++;
    const probs = tf.softmax(this.classifier.apply(this.encoder.apply(weak)) as tf.Tensor2D);
    const confidence = tf.max(probs, 1);
    const labels = tf.argMax(probs, 1);
    const k = this.context.numClasses;
    const threshold: tf.Tensor = this.options.balanced ? this.thresholds.perImage(labels as tf.Tensor1D) : tf.scalar(this.options.threshold);
    const mask = tf.cast(tf.greaterEqual(confidence, threshold), 'float32') as tf.Tensor1D;
    if (this.options.balanced) this.thresholds.count(labels as tf.Tensor1D, mask);
    const strong = strongAugment(weak, this.context.seed * 1_000_003 + this.step * 7 + 5);
    return { strong, pseudo: tf.oneHot(labels, k), mask };
  }

  loss(batch: TrainBatch, _progress: number, monitor: Monitor): LossTerms {
    const { strong, pseudo, mask } = batch.prepared as { strong: tf.Tensor4D; pseudo: tf.Tensor2D; mask: tf.Tensor1D };
    const logits = this.logits(strong);
    const perImage = tf.neg(tf.sum(tf.mul(pseudo, tf.logSoftmax(logits)), 1));
    monitor('selftrain_mask_rate', tf.mean(mask) as tf.Scalar);
    return { cls: this.sourceTerm(batch), selftrain: tf.mean(tf.mul(perImage, mask)) as tf.Scalar, ...this.targetTerm(batch) };
  }

  override weights(): Record<string, number> {
    return { selftrain: this.options.weight };
  }

  override saveState(): Record<string, unknown> {
    return { step: this.step, counts: this.thresholds.state() };
  }

  override loadState(state: Record<string, unknown>): void {
    this.step = state['step'] as number;
    this.thresholds.load(state['counts'] as number[]);
  }

  override dispose(): void {
    super.dispose();
    this.thresholds.dispose();
  }
}

export const selftrainAdapter = defineAdapter({
  name: 'selftrain',
  family: 'self-training',
  description: 'FixMatch-style pseudo-labels: weak view labels, strong view learns (optionally class-balanced thresholds)',
  needs: NEEDS,
  options,
  create: (context, opts) => new SelfTrain(context, opts),
});
