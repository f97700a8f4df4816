/**
 * `distill` — teacher-student training on target images.
 *
 * Teachers:
 * - `ema` (default): an exponential moving average of the student (mean teacher, Tarvainen &
 *   Valpola 2017; self-ensembling for domain adaptation, French et al., ICLR 2018);
 * - `source`: a copy of the network after a source-only pre-training phase, frozen.
 *
 * The student sees one augmented view of each target image, the teacher another; the student is
 * trained to match the teacher's softened predictions where the teacher is confident:
 *   loss = CE(source) [+ CE(labelled target)] + weight * rampUp(p) * T^2 * CE(softmax(teacher/T), softmax(student/T)) on confident samples
 * rampUp(p) = exp(-5 (1 - min(p / rampUpFraction, 1))^2)  (Laine & Aila, 2017).
 */
import { z } from 'zod';
import * as tf from '@tensorflow/tfjs';
import { ClassifierAdapter, defineAdapter, type AdapterContext, type LossTerms, type Monitor, type TrainBatch, type TrainingPhase } from '../src/train/adapter.js';
import { crossEntropy } from '../src/losses/classification.js';
import { classBalanceLoss, distillationLoss } from '../src/losses/distillation.js';
import { augment } from '../src/data/augment.js';
import { ClassThresholds } from '../src/train/class-thresholds.js';

const NEEDS = { source: true, targetUnlabelled: true, targetLabels: 'optional' } as const;

const options = z
  .object({
    teacher: z.enum(['ema', 'source']).default('ema'),
    /** Consistency weight (after ramp-up). */
    weight: z.number().nonnegative().default(3),
    temperature: z.number().positive().default(1),
    /** Only target images whose teacher confidence reaches this count. */
    threshold: z.number().min(0).max(1).default(0.9),
    /** Fraction of the adaptation phase over which the weight ramps up. */
    rampUpFraction: z.number().min(0).max(1).default(0.3),
    emaDecay: z.number().min(0).max(1).default(0.99),
    /** Source pre-training steps for `teacher: source` (default: as many as the adaptation). */
    pretrainSteps: z.number().int().positive().optional(),
    augment: z.boolean().default(true),
    /**
     * Weight of self-ensembling's class-balance term (French et al. 2018: the mean student
     * prediction on the target batch against uniform, scaled by the confident fraction); 0: off.
     * 1 (with classThresholds): chosen across the three benchmarks on validation seed 10 (README,
     * "Defaults that transfer"; off before).
     */
    classBalance: z.number().nonnegative().default(1),
    /**
     * Per-class confidence thresholds (FlexMatch's curriculum, src/train/class-thresholds.ts):
     * threshold * beta_c / (2 - beta_c) for the teacher's pseudo-label c instead of one threshold.
     */
    classThresholds: z.boolean().default(true),
  })
  .strict();
type Options = z.infer<typeof options>;

class Distill extends ClassifierAdapter {
  readonly name = 'distill';
  readonly needs = NEEDS;
  private teacher: { encoder: tf.LayersModel; classifier: tf.LayersModel } | null = null;
  private step = 0;
  private readonly thresholds: ClassThresholds | null;

  constructor(context: AdapterContext, private readonly options: Options) {
    super(context);
    this.thresholds = options.classThresholds ? new ClassThresholds(context.numClasses, options.threshold) : null;
  }

  override phases(steps: number): TrainingPhase[] {
    const adapt = this.mainPhase(steps);
    const withTeacher: TrainingPhase = { ...adapt, begin: () => this.copyTeacher() };
    if (this.options.teacher === 'source') return [this.sourcePhase(this.options.pretrainSteps ?? steps), withTeacher];
    return [withTeacher];
  }

  /** The teacher starts as a copy of the current network (its own variables, not trained). */
  private copyTeacher(): void {
    const build = this.context.backbone.rebuild();
    build.encoder.setWeights(this.encoder.getWeights());
    build.classifier.setWeights(this.classifier.getWeights());
    for (const m of [build.encoder, build.classifier]) m.trainable = false;
    this.teacher = build;
  }

  /**
   * The two augmented views and the teacher's logits, before the gradient scope: no gradient flows
   * into the teacher, and the tape keeps none of its activations (on wasm, whose heap is at most
   * 4 GB, that is what lets MobileNetV2 train at batch 64).
   */
  override prepare(batch: TrainBatch): Record<string, tf.Tensor> {
    const teacher = this.teacher!;
    const target = batch.target!;
    this.step++;
    const seed = this.context.seed * 1_000_003 + this.step * 2;
    const studentView = this.options.augment ? augment(target, seed) : tf.clone(target);
    const teacherView = this.options.augment ? augment(target, seed + 1) : target;
    const teacherLogits = teacher.classifier.apply(teacher.encoder.apply(teacherView)) as tf.Tensor2D;
    if (this.thresholds == null) return { studentView, teacherLogits };
    // Per-class thresholds: the teacher's pseudo-label picks its class's threshold; confident ones are counted.
    const probs = tf.softmax(teacherLogits);
    const labels = tf.argMax(probs, 1) as tf.Tensor1D;
    const threshold = this.thresholds.perImage(labels);
    this.thresholds.count(labels, tf.cast(tf.greaterEqual(tf.max(probs, 1), threshold), 'float32') as tf.Tensor1D);
    return { studentView, teacherLogits, threshold };
  }

  loss(batch: TrainBatch, _progress: number, monitor: Monitor): LossTerms {
    const prepared = (batch.prepared ?? this.prepare(batch)) as { studentView: tf.Tensor4D; teacherLogits: tf.Tensor2D; threshold?: tf.Tensor1D };
    const { studentView, teacherLogits } = prepared;
    const threshold = prepared.threshold ?? this.options.threshold;
    const studentLogits = this.logits(studentView);
    const consistency = distillationLoss(studentLogits, teacherLogits, this.options.temperature, threshold);
    // The fraction of confident teacher predictions: logged, and the class-balance term's scale.
    const confident = tf.mean(tf.cast(tf.greaterEqual(tf.max(tf.softmax(teacherLogits), 1), threshold), 'float32')) as tf.Scalar;
    monitor('distill_confident_fraction', confident);
    const terms: LossTerms = { cls: crossEntropy(this.logits(batch.source!.x), batch.source!.y), distill: consistency, ...this.targetTerm(batch) };
    if (this.options.classBalance > 0) terms['class_balance'] = classBalanceLoss(studentLogits, confident);
    return terms;
  }

  override weights(progress: number): Record<string, number> {
    const ramp = this.options.rampUpFraction === 0 ? 1 : Math.exp(-5 * Math.pow(1 - Math.min(progress / this.options.rampUpFraction, 1), 2));
    return { distill: this.options.weight * ramp, ...(this.options.classBalance > 0 ? { class_balance: this.options.classBalance * ramp } : {}) };
  }

  override stateModels(): Record<string, tf.LayersModel> {
    return this.teacher == null ? {} : { teacher_encoder: this.teacher.encoder, teacher_classifier: this.teacher.classifier };
  }

  override saveState(): Record<string, unknown> {
    return this.thresholds == null ? { step: this.step } : { step: this.step, counts: this.thresholds.state() };
  }

  override loadState(state: Record<string, unknown>): void {
    this.step = state['step'] as number;
    if (this.thresholds != null) this.thresholds.load(state['counts'] as number[]);
  }

  /** Mean teacher: teacher <- decay * teacher + (1 - decay) * student, after every step. */
  override afterStep(): void {
    if (this.options.teacher !== 'ema' || this.teacher == null) return;
    const decay = this.options.emaDecay;
    tf.tidy(() => {
      const pairs: [tf.LayersModel, tf.LayersModel][] = [
        [this.teacher!.encoder, this.encoder],
        [this.teacher!.classifier, this.classifier],
      ];
      // Paired layer by layer: a frozen model lists its weights in another order than a trainable
      // one (batch norm's moving statistics move), within a layer the order is the same.
      for (const [t, s] of pairs) {
        t.layers.forEach((layer, j) => {
          layer.weights.forEach((w, k) => {
            const teacherVar = w.read() as tf.Variable;
            const studentVar = s.layers[j]!.weights[k]!.read();
            teacherVar.assign(tf.add(tf.mul(teacherVar, decay), tf.mul(studentVar, 1 - decay)));
          });
        });
      }
    });
  }

  override dispose(): void {
    super.dispose();
    this.thresholds?.dispose();
    this.teacher?.encoder.dispose();
    this.teacher?.classifier.dispose();
  }
}

export const distillAdapter = defineAdapter({
  name: 'distill',
  family: 'distillation',
  description: 'teacher-student on target images (mean teacher or source teacher)',
  needs: NEEDS,
  options,
  renamed: { rampUp: 'rampUpFraction' },
  create: (context, opts) => new Distill(context, opts),
});
