/**
 * The strategy contract. A strategy (adapters/*.ts) declares which batches it needs and returns a
 * named record of scalar loss terms; the loop weights, sums, minimises and logs every term without
 * knowing the strategy. A strategy never sees the tracker.
 */
import * as tf from '@tensorflow/tfjs';
import type { z } from 'zod';
import type { Batch } from '../data/batches.js';
import type { Backbone } from '../models/backbones.js';
import { crossEntropy } from '../losses/classification.js';

export interface TrainBatch {
  /** Labelled source images. */
  source?: Batch;
  /** Target images from the train pool, labels withheld. */
  target?: tf.Tensor4D;
  /** The labelled target subset (`target.labels`). */
  targetLabelled?: Batch;
}

/**
 * How a strategy uses target labels:
 * - 'never': it must not see them (`source`);
 * - 'optional': when `target.labels > 0` the loop supplies them and the strategy adds `cls_target`;
 * - 'required': `target.labels: 0` is a config error;
 * - 'oracle': the labelled subset, or the whole labelled pool when `target.labels` is 0.
 */
export type TargetLabelUse = 'never' | 'optional' | 'required' | 'oracle';

export interface AdapterNeeds {
  source: boolean;
  targetUnlabelled: boolean;
  targetLabels: TargetLabelUse;
}

export type LossTerms = Record<string, tf.Scalar>;

export interface Adapter {
  readonly name: string;
  readonly needs: AdapterNeeds;
  /** Variables the optimiser updates. */
  trainableVariables(): tf.Variable[];
  /** Named scalar terms for one step; called inside the loop's gradient scope. */
  loss(batch: TrainBatch, progress: number): LossTerms;
  /** The weight of each term at this point of training (terms absent here weigh 1). */
  weights(progress: number): Record<string, number>;
  /** Class logits [B, K] for evaluation (inference mode). */
  predict(x: tf.Tensor4D): tf.Tensor2D;
  /** Encoder features [B, D] (embeddings, domain distances). */
  features(x: tf.Tensor4D): tf.Tensor2D;
  /** Models to checkpoint, by name. */
  checkpointModels(): Record<string, tf.LayersModel>;
  dispose(): void;
}

export interface AdapterContext {
  backbone: Backbone;
  numClasses: number;
  /** 0, N per class, or 'all' (from `target.labels`). */
  targetLabels: number | 'all';
  seed: number;
}

/** What an adapter file exports: its name, its options schema and a constructor. */
export interface AdapterFactory<Options = unknown> {
  readonly name: string;
  readonly family: string;
  readonly description: string;
  /** What the strategy's instances need (checked before any data is loaded). */
  readonly needs: AdapterNeeds;
  /** Validates `adapter:` minus `name` (strict: unknown keys are errors). */
  readonly options: z.ZodType<Options>;
  create(context: AdapterContext, options: Options): Adapter;
}

export function variablesOf(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

/**
 * Shared base: an encoder + classifier trained with cross-entropy. Subclasses add terms.
 */
export abstract class ClassifierAdapter implements Adapter {
  abstract readonly name: string;
  abstract readonly needs: AdapterNeeds;
  protected readonly encoder: tf.LayersModel;
  protected readonly classifier: tf.LayersModel;

  constructor(protected readonly context: AdapterContext) {
    this.encoder = context.backbone.encoder;
    this.classifier = context.backbone.classifier;
  }

  trainableVariables(): tf.Variable[] {
    return [...variablesOf(this.encoder), ...variablesOf(this.classifier)];
  }

  abstract loss(batch: TrainBatch, progress: number): LossTerms;

  weights(_progress: number): Record<string, number> {
    return {};
  }

  /** Logits in training mode (dropout / batch-norm statistics active). */
  protected logits(x: tf.Tensor4D): tf.Tensor2D {
    return this.classifier.apply(this.encoder.apply(x, { training: true }), { training: true }) as tf.Tensor2D;
  }

  protected sourceTerm(batch: TrainBatch): tf.Scalar {
    if (batch.source == null) throw new Error(`${this.name}: the loop supplied no source batch`);
    return crossEntropy(this.logits(batch.source.x), batch.source.y);
  }

  /** `cls_target` when the loop supplied labelled target images. */
  protected targetTerm(batch: TrainBatch): LossTerms {
    if (batch.targetLabelled == null) return {};
    return { cls_target: crossEntropy(this.logits(batch.targetLabelled.x), batch.targetLabelled.y) };
  }

  predict(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => this.classifier.predict(this.encoder.predict(x) as tf.Tensor) as tf.Tensor2D);
  }

  features(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => this.encoder.predict(x) as tf.Tensor2D);
  }

  checkpointModels(): Record<string, tf.LayersModel> {
    return { encoder: this.encoder, classifier: this.classifier };
  }

  dispose(): void {
    this.encoder.dispose();
    this.classifier.dispose();
  }
}
