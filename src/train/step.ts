/**
 * One optimisation step, shared by the training loop and `dalab bench`: draw the batches the
 * strategy needs, ask it for its named loss terms, weight and sum them, minimise.
 * The returned scalars stay on the device (owned by the caller): nothing here waits for it.
 */
import * as tf from '@tensorflow/tfjs';
import { BatchStream, type Batch, type StreamState } from '../data/batches.js';
import { augment } from '../data/augment.js';
import type { ImageSet } from '../data/types.js';
import type { TrainConfig } from '../config/schema.js';
import { updatesOf, type Monitor, type TrainBatch, type TrainingPhase, type Update } from './adapter.js';
import { learningRate } from './schedule.js';
import { FlatAdam, savedArray, savedVariable, type OptimizerState, type SavedArrays, type StepOptimizer } from './flat-adam.js';

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

/** tfjs's optimisers keep their state in fields (no public setter restores it exactly). */
interface TfjsSlot {
  originalName: string;
  variable: tf.Variable;
}
interface TfjsAdamFields {
  learningRate: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: TfjsSlot[];
  accumulatedSecondMoment: TfjsSlot[];
  iterations_: number;
}
interface TfjsMomentumFields {
  accumulations: TfjsSlot[];
  iterations_: number;
}

function slots(slots: TfjsSlot[], key: string, tensors: Record<string, tf.Tensor>): string[] {
  slots.forEach((slot, i) => (tensors[`${key}/${i}`] = slot.variable));
  return slots.map((slot) => slot.originalName);
}

function loadSlots(names: string[], key: string, arrays: SavedArrays, prefix: string): TfjsSlot[] {
  return names.map((originalName, i) => ({ originalName, variable: savedVariable(arrays, `${prefix}${key}/${i}`) }));
}

/**
 * tfjs's Adam (wasm, cpu). Its setWeights() recomputes the bias-correction powers as beta^t, which
 * differs in the last bits from the running product it keeps: the state is restored field by field.
 */
class TfjsAdam implements StepOptimizer {
  private readonly inner: tf.AdamOptimizer;
  private readonly fields: TfjsAdamFields;
  constructor(lr: number, beta1 = 0.9) {
    this.inner = tf.train.adam(lr, beta1);
    this.fields = this.inner as unknown as TfjsAdamFields;
  }
  applyGradients(gradients: tf.NamedTensorMap): void {
    this.inner.applyGradients(gradients as never);
  }
  setLearningRate(lr: number): void {
    this.fields.learningRate = lr;
  }
  saveState(): OptimizerState {
    const tensors: Record<string, tf.Tensor> = { accBeta1: this.fields.accBeta1, accBeta2: this.fields.accBeta2 };
    const m = slots(this.fields.accumulatedFirstMoment, 'm', tensors);
    const v = slots(this.fields.accumulatedSecondMoment, 'v', tensors);
    return { json: { kind: 'adam', m, v, iterations: this.fields.iterations_ }, tensors };
  }
  loadState(json: Record<string, unknown>, arrays: SavedArrays, prefix: string): void {
    if (json['kind'] !== 'adam') throw new Error(`the checkpoint's optimiser is ${String(json['kind'])}, this run's adam (another backend?)`);
    const f = this.fields;
    tf.tidy(() => {
      f.accBeta1.assign(tf.scalar(savedArray(arrays, `${prefix}accBeta1`).data[0]!));
      f.accBeta2.assign(tf.scalar(savedArray(arrays, `${prefix}accBeta2`).data[0]!));
    });
    tf.dispose([...f.accumulatedFirstMoment, ...f.accumulatedSecondMoment].map((s) => s.variable));
    f.accumulatedFirstMoment = loadSlots(json['m'] as string[], 'm', arrays, prefix);
    f.accumulatedSecondMoment = loadSlots(json['v'] as string[], 'v', arrays, prefix);
    f.iterations_ = json['iterations'] as number;
  }
  dispose(): void {
    this.inner.dispose();
  }
}

/** SGD with momentum (tfjs's). */
class TfjsMomentum implements StepOptimizer {
  private readonly inner: tf.MomentumOptimizer;
  private readonly fields: TfjsMomentumFields;
  constructor(lr: number, momentum: number, nesterov: boolean) {
    this.inner = tf.train.momentum(lr, momentum, nesterov);
    this.fields = this.inner as unknown as TfjsMomentumFields;
  }
  applyGradients(gradients: tf.NamedTensorMap): void {
    this.inner.applyGradients(gradients as never);
  }
  setLearningRate(lr: number): void {
    // Momentum caches -lr as a tensor: its own setter replaces it.
    this.inner.setLearningRate(lr);
  }
  saveState(): OptimizerState {
    const tensors: Record<string, tf.Tensor> = {};
    const names = slots(this.fields.accumulations, 'acc', tensors);
    return { json: { kind: 'momentum', names, iterations: this.fields.iterations_ }, tensors };
  }
  loadState(json: Record<string, unknown>, arrays: SavedArrays, prefix: string): void {
    if (json['kind'] !== 'momentum') throw new Error(`the checkpoint's optimiser is ${String(json['kind'])}, this run's momentum`);
    tf.dispose(this.fields.accumulations.map((s) => s.variable));
    this.fields.accumulations = loadSlots(json['names'] as string[], 'acc', arrays, prefix);
    this.fields.iterations_ = json['iterations'] as number;
  }
  dispose(): void {
    this.inner.dispose();
  }
}

/**
 * Adam: on native TensorFlow over one flat buffer (flat-adam.ts: the same results bit for bit, a
 * quarter of the ops); elsewhere tfjs's own, as wasm's slice kernel copies its whole input (splitting
 * MobileNet's 1.3 M-value buffer into 158 variables took 1.1 s there, 10 ms natively).
 */
function makeOptimizer(train: TrainConfig, beta1 = 0.9): StepOptimizer {
  if (train.optimizer === 'adam') return tf.getBackend() === 'tensorflow' ? new FlatAdam(train.lr, beta1) : new TfjsAdam(train.lr, beta1);
  return new TfjsMomentum(train.lr, train.momentum, train.nesterov);
}

/** The terms that act during `train.warmup`: cross-entropy on labelled images (source, a second classifier's, labelled target, auxiliary heads). */
export const isSupervisedTerm = (term: string): boolean => term === 'cls' || term === 'cls2' || term === 'cls_target' || term.startsWith('aux');

/** A test hook (the divergence test): the batch with its first pixel NaN. */
function poisoned(batch: Batch, poison: boolean): Batch {
  if (!poison) return batch;
  const x = tf.tidy(() => {
    const mask = tf.oneHot(tf.tensor1d([0], 'int32'), batch.x.size).reshape(batch.x.shape);
    return tf.where(tf.cast(mask, 'bool'), tf.fill(batch.x.shape, NaN), batch.x) as tf.Tensor4D;
  });
  batch.x.dispose();
  return { x, y: batch.y, ...(batch.indices != null ? { indices: batch.indices } : {}) };
}

/** Where a stepper stands: its streams' positions and its optimisers' states. */
export interface StepperState {
  streams: Record<string, StreamState>;
  optimizers: OptimizerState[];
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
  /** One optimiser per variable group (groups with the same key share one), in order of first use. */
  private readonly groups: { key: string; variables: tf.Variable[]; lrScale: number; optimizer: StepOptimizer }[];
  /** The phase's updates (its sub-steps, or itself), each with the groups it updates. */
  private readonly updates: { name: string; repeat: number; update: Update; groups: Stepper['groups']; variables: tf.Variable[] }[];
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
    this.groups = [];
    const byKey = new Map<string, Stepper['groups'][number]>();
    this.updates = updatesOf(phase).map((update, u) => {
      const groups = update
        .variableGroups()
        .filter((g) => g.variables.length > 0 && g.lrScale > 0)
        .map((g, i) => {
          const key = g.key ?? `${u}/${i}`;
          const known = byKey.get(key);
          if (known != null) {
            if (known.variables.length !== g.variables.length || known.variables.some((v, j) => v !== g.variables[j]) || known.lrScale !== g.lrScale) {
              throw new Error(`${phase.name}: variable group '${key}' differs between sub-steps`);
            }
            return known;
          }
          const group = { key, variables: g.variables, lrScale: g.lrScale, optimizer: makeOptimizer(train, g.beta1) };
          byKey.set(key, group);
          this.groups.push(group);
          return group;
        });
      return { name: update.name, repeat: update.repeat ?? 1, update, groups, variables: groups.flatMap((g) => g.variables) };
    });
    this.kernels = new Set(this.groups.flatMap((g) => g.variables).filter(isKernel).map((v) => v.name));
  }

  private readonly kernels: Set<string>;
  /** Source batches drawn so far (SHOT's `source_batches_after_source_phase` sums them). */
  sourceBatches = 0;

  /**
   * Runs step `step` (1-based within the phase). With `gradNorms`, also the L2 norm of the
   * gradient of each block's trained variables (blocks with none are left out), on the device.
   */
  step(step: number, gradNorms?: GradientBlocks, poison = false): StepOutput {
    const lr = learningRate(this.train, step - 1);
    if (lr !== this.currentLr) {
      for (const g of this.groups) g.optimizer.setLearningRate(lr * g.lrScale);
      this.currentLr = lr;
    }
    const progress = (step - 1) / this.train.steps;
    const batch: TrainBatch = {};
    const owned: Batch[] = [];
    const draw = (stream: BatchStream, k: number): Batch => {
      const b = poisoned(stream.next(), poison);
      const aug = this.train.augment;
      if (aug === false) return b;
      // Translation + intensity augmentation on the device, seeded by (run seed, phase, step, stream).
      const { shift, noise } = aug === true ? { shift: 2, noise: 0.05 } : aug;
      const x = augment(b.x, (this.train.seed * 7919 + step * 31 + k) % 2147483647, shift, noise);
      b.x.dispose();
      return { ...b, x };
    };
    if (this.source != null) {
      owned.push((batch.source = draw(this.source, 1)));
      this.sourceBatches++;
    }
    if (this.target != null) {
      const t = draw(this.target, 2);
      owned.push(t);
      batch.target = t.x;
      if (t.indices != null) batch.targetIndices = t.indices;
    }
    if (this.targetLabelled != null) owned.push((batch.targetLabelled = draw(this.targetLabelled, 3)));

    // Outside the gradient scope: the tape records none of these operations (a teacher's forward pass).
    const phase = this.phase;
    if (phase.prepare != null) batch.prepared = tf.tidy(() => phase.prepare!(batch, progress));

    const monitors: Record<string, tf.Scalar> = {};
    const norms: Record<string, tf.Scalar> = {};
    // Sub-steps log `<name>/<term>`, the mean over their repetitions; the total sums their objectives.
    const sums: Record<string, tf.Scalar> = {};
    const totals: tf.Scalar[] = [];
    try {
      const warm = step <= this.train.warmup;
      for (const { name, repeat, update, groups, variables } of this.updates) {
        const prefix = name === '' ? '' : `${name}/`;
        if (warm && !this.hasSupervisedTerm(update, batch, progress)) continue;
        const termWeights = update.weights(progress);
        // Watched scalars keep their own names (domain_acc), whichever sub-step reports them.
        const monitor: Monitor = (key, value) => {
          monitors[key]?.dispose();
          monitors[key] = tf.keep(value);
        };
        let subTotal: tf.Scalar | null = null;
        for (let r = 0; r < repeat; r++) {
          let kept: Record<string, tf.Scalar> = {};
          const objective = () => {
            const terms = update.loss(batch, progress, monitor);
            let sum: tf.Scalar | null = null;
            for (const [term, value] of Object.entries(terms)) {
              if (warm && !isSupervisedTerm(term)) continue;
              const weight = termWeights[term] ?? 1;
              const weighted = weight === 1 ? value : tf.mul(value, weight);
              sum = sum == null ? (weighted as tf.Scalar) : tf.add(sum, weighted);
            }
            if (sum == null) throw new Error(`${this.phase.name}${name === '' ? '' : `/${name}`}: loss() returned no terms`);
            kept = Object.fromEntries(Object.entries(terms).map(([k, v]) => [k, tf.keep(v)]));
            return sum;
          };
          let total: tf.Scalar;
          if (variables.length === 0) {
            // An update that trains nothing (AdaBN's statistics pass): its terms are logged, nothing is updated.
            total = tf.tidy(objective);
          } else {
            const result = tf.variableGrads(objective, variables);
            total = result.value as tf.Scalar;
            this.apply(result.grads, groups, gradNorms, norms);
          }
          if (repeat === 1) {
            subTotal = total;
            this.accumulate(sums, prefix, kept, repeat);
          } else {
            const scaled = tf.tidy(() => tf.div(total, repeat)) as tf.Scalar;
            // The total may be one of the terms (a single term of weight 1): accumulate() disposes those.
            if (!Object.values(kept).includes(total)) total.dispose();
            this.accumulate(sums, prefix, kept, repeat);
            if (subTotal == null) subTotal = scaled;
            else {
              const next = tf.add(subTotal, scaled) as tf.Scalar;
              tf.dispose([subTotal, scaled]);
              subTotal = next;
            }
          }
        }
        totals.push(subTotal!);
      }
      this.phase.afterStep?.();
      // Every update skipped (a source-free phase's warm-up): nothing was trained this step.
      const total = totals.length === 0 ? tf.scalar(0) : totals.length === 1 ? totals[0]! : (tf.keep(tf.tidy(() => tf.addN(totals))) as tf.Scalar);
      // A sub-step's total may be one of its terms (a single term of weight 1): those stay.
      if (totals.length > 1) tf.dispose(totals.filter((t) => !Object.values(sums).includes(t)));
      return { total, terms: sums, monitors, gradNorms: norms };
    } finally {
      for (const b of owned) {
        b.x.dispose();
        b.y.dispose();
      }
      if (batch.prepared != null) tf.dispose(Object.values(batch.prepared));
    }
  }

  private readonly termNames = new Map<Update, string[]>();

  /** Whether an update has a term that acts during the warm-up (its term names read once, by one call outside the tape). */
  private hasSupervisedTerm(update: Update, batch: TrainBatch, progress: number): boolean {
    let names = this.termNames.get(update);
    if (names == null) {
      names = tf.tidy(() => Object.keys(update.loss(batch, progress, () => undefined)));
      this.termNames.set(update, names);
    }
    return names.some(isSupervisedTerm);
  }

  /** Adds one repetition's terms to the running means (`terms` disposed). */
  private accumulate(sums: Record<string, tf.Scalar>, prefix: string, terms: Record<string, tf.Scalar>, repeat: number): void {
    for (const [term, value] of Object.entries(terms)) {
      const key = `${prefix}${term}`;
      if (repeat === 1) {
        sums[key] = value;
        continue;
      }
      const scaled = tf.tidy(() => tf.div(value, repeat)) as tf.Scalar;
      value.dispose();
      if (sums[key] == null) sums[key] = scaled;
      else {
        const next = tf.add(sums[key]!, scaled) as tf.Scalar;
        sums[key]!.dispose();
        scaled.dispose();
        sums[key] = next;
      }
    }
  }

  /** One optimiser step per group from `grads` (disposed); the blocks' gradient norms on first sight. */
  private apply(grads: tf.NamedTensorMap, groups: Stepper['groups'], gradNorms: GradientBlocks | undefined, norms: Record<string, tf.Scalar>): void {
    if (gradNorms != null) {
      tf.tidy(() => {
        for (const block of gradNorms) {
          if (block.name in norms) continue;
          const gs = block.variables.map((name) => grads[name]).filter((g): g is tf.Tensor => g != null);
          if (gs.length > 0) norms[block.name] = tf.keep(tf.sqrt(tf.addN(gs.map((g) => tf.sum(tf.square(g))))) as tf.Scalar);
        }
      });
    }
    const wd = this.train.weightDecay;
    for (const g of groups) {
      const mine: tf.NamedTensorMap = {};
      for (const v of g.variables) {
        const grad = grads[v.name];
        // No gradient (every term that reaches it is off, e.g. a discriminator during train.warmup):
        // a zero step, no weight decay, as PyTorch skips a parameter whose grad is None.
        if (grad == null) mine[v.name] = tf.zerosLike(v);
        else mine[v.name] = wd > 0 && this.kernels.has(v.name) ? tf.tidy(() => tf.add(grad, tf.mul(v, wd))) : grad;
      }
      g.optimizer.applyGradients(mine);
      for (const [name, t] of Object.entries(mine)) if (t !== grads[name]) t.dispose();
    }
    tf.dispose(Object.values(grads).filter((g) => g != null));
  }

  /** The streams' positions and the optimisers' states (tensors owned by the optimisers). */
  saveState(): StepperState {
    const streams: Record<string, StreamState> = {};
    for (const [name, stream] of this.streams()) streams[name] = stream.state();
    return { streams, optimizers: this.groups.map((g) => g.optimizer.saveState()) };
  }

  /** Continues from a saved state (`arrays`: the optimisers' tensors, under `prefix<group>/`). */
  loadState(state: { streams: Record<string, StreamState>; optimizers: { json: Record<string, unknown> }[] }, arrays: SavedArrays, prefix: string): void {
    for (const [name, stream] of this.streams()) {
      const saved = state.streams[name];
      if (saved == null) throw new Error(`the checkpoint holds no position of the ${name} batch stream`);
      stream.restore(saved);
    }
    if (state.optimizers.length !== this.groups.length) throw new Error(`the checkpoint holds ${state.optimizers.length} optimiser(s), this phase trains ${this.groups.length} variable group(s)`);
    this.groups.forEach((g, i) => g.optimizer.loadState(state.optimizers[i]!.json, arrays, `${prefix}${i}/`));
  }

  private streams(): [string, BatchStream][] {
    const all: [string, BatchStream | undefined][] = [
      ['source', this.source],
      ['target', this.target],
      ['targetLabelled', this.targetLabelled],
    ];
    return all.filter((e): e is [string, BatchStream] => e[1] != null);
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
