/**
 * One optimisation step, shared by the training loop and `dalab bench`: draw the batches the
 * strategy needs, ask it for its named loss terms, weight and sum them, minimise.
 * The returned scalars stay on the device (owned by the caller): nothing here waits for it.
 */
import * as tf from '@tensorflow/tfjs';
import { BatchStream, type Batch } from '../data/batches.js';
import type { ImageSet } from '../data/types.js';
import type { TrainConfig } from '../config/schema.js';
import type { Adapter, TrainBatch } from './adapter.js';
import { learningRate } from './schedule.js';

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
}

function makeOptimizer(train: TrainConfig): tf.Optimizer {
  return train.optimizer === 'adam' ? tf.train.adam(train.lr) : tf.train.momentum(train.lr, train.momentum);
}

function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  // SGD and momentum cache -lr as a tensor (setLearningRate); Adam reads its field on every update.
  const withSetter = optimizer as unknown as { setLearningRate?: (lr: number) => void; learningRate: number };
  if (typeof withSetter.setLearningRate === 'function') withSetter.setLearningRate(lr);
  else withSetter.learningRate = lr;
}

export class Stepper {
  private readonly source?: BatchStream;
  private readonly target?: BatchStream;
  private readonly targetLabelled?: BatchStream;
  private readonly optimizer: tf.Optimizer;
  private readonly variables: tf.Variable[];
  private currentLr = NaN;
  /** Images consumed per step (source + target, labelled or not), for throughput figures. */
  readonly imagesPerStep: number;

  constructor(
    private readonly train: TrainConfig,
    private readonly adapter: Adapter,
    sets: StepSets,
    numClasses: number,
  ) {
    const { batchSize, seed } = train;
    if (adapter.needs.source) this.source = new BatchStream(sets.source, batchSize, numClasses, `dalab/${seed}/source`);
    if (adapter.needs.targetUnlabelled) this.target = new BatchStream(sets.targetPool, batchSize, numClasses, `dalab/${seed}/target`);
    const use = adapter.needs.targetLabels;
    let labelled: ImageSet | null = null;
    if (use === 'oracle') labelled = sets.targetLabelled.count > 0 ? sets.targetLabelled : sets.targetPool;
    else if ((use === 'optional' || use === 'required') && sets.targetLabelled.count > 0) labelled = sets.targetLabelled;
    if (labelled != null) this.targetLabelled = new BatchStream(labelled, batchSize, numClasses, `dalab/${seed}/target-labelled`);
    this.imagesPerStep = batchSize * [this.source, this.target, this.targetLabelled].filter((s) => s != null).length;
    this.optimizer = makeOptimizer(train);
    this.variables = adapter.trainableVariables();
  }

  /** Runs step `step` (1-based). */
  step(step: number): StepOutput {
    const lr = learningRate(this.train, step - 1);
    if (lr !== this.currentLr) {
      setLearningRate(this.optimizer, lr);
      this.currentLr = lr;
    }
    const progress = (step - 1) / this.train.steps;
    const batch: TrainBatch = {};
    const owned: Batch[] = [];
    if (this.source != null) owned.push((batch.source = this.source.next()));
    if (this.target != null) {
      const t = this.target.next();
      owned.push(t);
      batch.target = t.x;
    }
    if (this.targetLabelled != null) owned.push((batch.targetLabelled = this.targetLabelled.next()));

    const termWeights = this.adapter.weights(progress);
    let kept: Record<string, tf.Scalar> = {};
    try {
      const total = this.optimizer.minimize(
        () => {
          const terms = this.adapter.loss(batch, progress);
          let sum: tf.Scalar | null = null;
          for (const [name, value] of Object.entries(terms)) {
            const weight = termWeights[name] ?? 1;
            const weighted = weight === 1 ? value : tf.mul(value, weight);
            sum = sum == null ? (weighted as tf.Scalar) : tf.add(sum, weighted);
          }
          if (sum == null) throw new Error(`${this.adapter.name}: loss() returned no terms`);
          kept = Object.fromEntries(Object.entries(terms).map(([k, v]) => [k, tf.keep(v)]));
          return sum;
        },
        true,
        this.variables,
      ) as tf.Scalar;
      return { total, terms: kept };
    } finally {
      for (const b of owned) {
        b.x.dispose();
        b.y.dispose();
      }
    }
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
