/**
 * One optimisation step, shared by the training loop and `dalab bench`: draw the batches the
 * strategy needs, ask it for its named loss terms, weight and sum them, minimise.
 * The returned scalars stay on the device (owned by the caller): nothing here waits for it.
 */
import * as tf from '@tensorflow/tfjs';
import { BatchStream, type Batch } from '../data/batches.js';
import { augment } from '../data/augment.js';
import type { ImageSet } from '../data/types.js';
import type { TrainConfig } from '../config/schema.js';
import type { Monitor, TrainBatch, TrainingPhase } from './adapter.js';
import { learningRate } from './schedule.js';
import { FlatAdam, type StepOptimizer } from './flat-adam.js';

export interface StepSets {
  source: ImageSet;
  /** The target train pool (unlabelled use). */
  targetPool: ImageSet;
  /** The labelled target subset (may be empty). */
  targetLabelled: ImageSet;
}

export interface StepOutput {
  total: tf.Scalar;
  terms: Record<string, tf.Scalar>;
  /** Watched scalars the phase reported (e.g. domain_acc). */
  monitors: Record<string, tf.Scalar>;
  /** L2 norm of the loss gradient of each block's weights (asked for with `gradNorms`), before weight decay. */
  gradNorms: Record<string, tf.Scalar>;
}

/** Blocks of variables (by tf.Variable name) whose gradient norms a step can report. */
export type GradientBlocks = readonly { name: string; variables: readonly string[] }[];

/** tfjs names kernels `.../kernel` (dense, conv) and `.../depthwise_kernel`. */
const isKernel = (v: tf.Variable) => /(^|\/)(depthwise_)?kernel(_\d+)?$/.test(v.name);

/**
 * Adam: on native TensorFlow over one flat buffer (flat-adam.ts: the same results bit for bit, a
 * quarter of the ops); elsewhere tfjs's own, as wasm's slice kernel copies its whole input (splitting
 * MobileNet's 1.3 M-value buffer into 158 variables took 1.1 s there, 10 ms natively).
 */
function makeOptimizer(train: TrainConfig): StepOptimizer {
  if (train.optimizer === 'adam') return tf.getBackend() === 'tensorflow' ? new FlatAdam(train.lr) : (tf.train.adam(train.lr) as unknown as StepOptimizer);
  const momentum = tf.train.momentum(train.lr, train.momentum);
  return {
    applyGradients: (gradients) => momentum.applyGradients(gradients as never),
    setLearningRate: (lr: number) => momentum.setLearningRate(lr),
    dispose: () => momentum.dispose(),
  } as StepOptimizer;
}

function setLearningRate(optimizer: StepOptimizer, lr: number): void {
  // SGD and momentum cache -lr as a tensor (setLearningRate); Adam reads its field on every update.
  const withSetter = optimizer as unknown as { setLearningRate?: (lr: number) => void; learningRate: number };
  if (typeof withSetter.setLearningRate === 'function') withSetter.setLearningRate(lr);
  else withSetter.learningRate = lr;
}

/**
 * Steps of one training phase. `train.steps` is the phase's length (for the schedule). Variable
 * groups with their own learning-rate scale get their own optimiser (Adam is invariant to the
 * scale of a gradient, so scaling gradients would not do).
 */
export class Stepper {
  private readonly source?: BatchStream;
  private readonly target?: BatchStream;
  private readonly targetLabelled?: BatchStream;
  private readonly groups: { variables: tf.Variable[]; lrScale: number; optimizer: StepOptimizer }[];
  private readonly variables: tf.Variable[];
  private currentLr = NaN;
  /** Images consumed per step (source + target, labelled or not), for throughput figures. */
  readonly imagesPerStep: number;

  constructor(
    private readonly train: TrainConfig,
    private readonly phase: TrainingPhase,
    sets: StepSets,
    numClasses: number,
  ) {
    const { batchSize, seed } = train;
    const streamSeed = `dalab/${seed}/${phase.name}`;
    if (phase.needs.source) this.source = new BatchStream(sets.source, batchSize, numClasses, `${streamSeed}/source`, train.invert);
    if (phase.needs.targetUnlabelled) this.target = new BatchStream(sets.targetPool, batchSize, numClasses, `${streamSeed}/target`, train.invert);
    const use = phase.needs.targetLabels;
    let labelled: ImageSet | null = null;
    if (use === 'oracle') labelled = sets.targetLabelled.count > 0 ? sets.targetLabelled : sets.targetPool;
    else if ((use === 'optional' || use === 'required') && sets.targetLabelled.count > 0) labelled = sets.targetLabelled;
    if (labelled != null) this.targetLabelled = new BatchStream(labelled, batchSize, numClasses, `${streamSeed}/target-labelled`, train.invert);
    this.imagesPerStep = batchSize * [this.source, this.target, this.targetLabelled].filter((s) => s != null).length;
    this.groups = phase
      .variableGroups()
      .filter((g) => g.variables.length > 0 && g.lrScale > 0)
      .map((g) => ({ ...g, optimizer: makeOptimizer(train) }));
    this.variables = this.groups.flatMap((g) => g.variables);
    this.kernels = new Set(this.variables.filter(isKernel).map((v) => v.name));
  }

  private readonly kernels: Set<string>;

  /**
   * Runs step `step` (1-based within the phase). With `gradNorms`, also the L2 norm of the
   * gradient of each block's trained variables (blocks with none are left out), on the device.
   */
  step(step: number, gradNorms?: GradientBlocks): StepOutput {
    const lr = learningRate(this.train, step - 1);
    if (lr !== this.currentLr) {
      for (const g of this.groups) setLearningRate(g.optimizer, lr * g.lrScale);
      this.currentLr = lr;
    }
    const progress = (step - 1) / this.train.steps;
    const batch: TrainBatch = {};
    const owned: Batch[] = [];
    const draw = (stream: BatchStream, k: number): Batch => {
      const b = stream.next();
      const aug = this.train.augment;
      if (aug === false) return b;
      // Translation + intensity augmentation on the device, seeded by (run seed, phase, step, stream).
      const { shift, noise } = aug === true ? { shift: 2, noise: 0.05 } : aug;
      const x = augment(b.x, (this.train.seed * 7919 + step * 31 + k) % 2147483647, shift, noise);
      b.x.dispose();
      return { x, y: b.y };
    };
    if (this.source != null) owned.push((batch.source = draw(this.source, 1)));
    if (this.target != null) {
      const t = draw(this.target, 2);
      owned.push(t);
      batch.target = t.x;
    }
    if (this.targetLabelled != null) owned.push((batch.targetLabelled = draw(this.targetLabelled, 3)));

    // Outside the gradient scope: the tape records none of these operations (a teacher's forward pass).
    const phase = this.phase;
    if (phase.prepare != null) batch.prepared = tf.tidy(() => phase.prepare!(batch, progress));

    const termWeights = this.phase.weights(progress);
    let kept: Record<string, tf.Scalar> = {};
    const monitors: Record<string, tf.Scalar> = {};
    const monitor: Monitor = (name, value) => {
      monitors[name] = tf.keep(value);
    };
    const objective = () => {
      const terms = this.phase.loss(batch, progress, monitor);
      let sum: tf.Scalar | null = null;
      for (const [name, value] of Object.entries(terms)) {
        const weight = termWeights[name] ?? 1;
        const weighted = weight === 1 ? value : tf.mul(value, weight);
        sum = sum == null ? (weighted as tf.Scalar) : tf.add(sum, weighted);
      }
      if (sum == null) throw new Error(`${this.phase.name}: loss() returned no terms`);
      kept = Object.fromEntries(Object.entries(terms).map(([k, v]) => [k, tf.keep(v)]));
      return sum;
    };
    try {
      const norms: Record<string, tf.Scalar> = {};
      const { value: total, grads } = tf.variableGrads(objective, this.variables);
      if (gradNorms != null) {
        tf.tidy(() => {
          for (const block of gradNorms) {
            const gs = block.variables.map((name) => grads[name]).filter((g): g is tf.Tensor => g != null);
            if (gs.length > 0) norms[block.name] = tf.keep(tf.sqrt(tf.addN(gs.map((g) => tf.sum(tf.square(g))))) as tf.Scalar);
          }
        });
      }
      const wd = this.train.weightDecay;
      for (const g of this.groups) {
        const mine: tf.NamedTensorMap = {};
        for (const v of g.variables) {
          const grad = grads[v.name]!;
          mine[v.name] = wd > 0 && this.kernels.has(v.name) ? tf.tidy(() => tf.add(grad, tf.mul(v, wd))) : grad;
        }
        g.optimizer.applyGradients(mine);
        for (const [name, t] of Object.entries(mine)) if (t !== grads[name]) t.dispose();
      }
      tf.dispose(Object.values(grads));
      this.phase.afterStep?.();
      return { total: total as tf.Scalar, terms: kept, monitors, gradNorms: norms };
    } finally {
      for (const b of owned) {
        b.x.dispose();
        b.y.dispose();
      }
      if (batch.prepared != null) tf.dispose(Object.values(batch.prepared));
    }
  }

  dispose(): void {
    for (const g of this.groups) g.optimizer.dispose();
  }
}

/**
 * Calls begin() on every phase of a strategy, in order, without training any (a teacher copied from
 * untrained weights, heads swapped, layers frozen) and returns the last (adaptation) phase: what
 * `dalab bench` and the leak tests step.
 */
export function beginPhasesTakeLast(adapter: import('./adapter.js').Adapter, train: TrainConfig): TrainingPhase {
  const phases = adapter.phases(train.steps);
  for (const p of phases) p.begin?.();
  return phases[phases.length - 1]!;
}
