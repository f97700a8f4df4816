/**
 * The adversarial toolkit shared by dann, dsn, cdan and adda: one domain-discriminator module and
 * one gradient-reversal schedule. The losses themselves are pure functions in losses/domain.ts.
 *
 * - DomainDiscriminator: an MLP (input -> hidden -> hidden -> 1 logit, ReLU; Ganin et al. 2016's
 *   domain classifier, CDAN's and ADDA's) with seeded Glorot initialisation; `adversarial()` is the
 *   gradient-reversal objective (dann, dsn, cdan), `classify()` / `fool()` the two sides of ADDA's
 *   alternating game. A strategy declares the module once (ClassifierAdapter.module): its variables,
 *   checkpoint and disposal follow.
 * - grlCoefficient: lambda(p) = 2 / (1 + exp(-grlSpeed p)) - 1, or a fixed `lambda`.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { domainAdversarialLoss, domainClassification, invertedLabelLoss, sigmoidRamp } from '../losses/domain.js';

/** The reversal schedule's options, shared by every strategy with a gradient-reversal layer. */
export const grlOptionShape = {
  /** Speed of the reversal coefficient's ramp lambda(p) = 2/(1+exp(-grlSpeed p)) - 1; fixed at `lambda` when given. */
  grlSpeed: z.number().positive().default(10),
  lambda: z.number().nonnegative().optional(),
};

export interface GrlSchedule {
  grlSpeed: number;
  lambda?: number | undefined;
}

/** The gradient-reversal coefficient at training progress p in [0, 1). */
export function grlCoefficient(progress: number, schedule: GrlSchedule): number {
  return schedule.lambda ?? sigmoidRamp(progress, schedule.grlSpeed);
}

export interface DiscriminatorOptions {
  inputSize: number;
  hidden: number;
  seed: number;
  /** Model name; layers are named `<name>_fc1`, `<name>_fc2`, `<name>_out`. */
  name: string;
}

export class DomainDiscriminator {
  readonly model: tf.LayersModel;

  constructor(options: DiscriminatorOptions) {
    const { inputSize, hidden, seed, name } = options;
    const x = tf.input({ shape: [inputSize], name: `${name}_in` });
    let h = tf.layers.dense({ name: `${name}_fc1`, units: hidden, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) }).apply(x) as tf.SymbolicTensor;
    h = tf.layers.dense({ name: `${name}_fc2`, units: hidden, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }).apply(h) as tf.SymbolicTensor;
    const out = tf.layers.dense({ name: `${name}_out`, units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }) }).apply(h) as tf.SymbolicTensor;
    this.model = tf.model({ inputs: x, outputs: out, name });
  }

  private readonly discriminate = (features: tf.Tensor2D): tf.Tensor => this.model.apply(features, { training: true }) as tf.Tensor;

  /** BCE of the discriminator behind a reversal layer with coefficient lambda (weights: CDAN+E). */
  adversarial(source: tf.Tensor2D, target: tf.Tensor2D, lambda: number, weights?: tf.Tensor1D): { loss: tf.Scalar; accuracy: tf.Scalar } {
    return domainAdversarialLoss(this.discriminate, source, target, lambda, weights);
  }

  /** The discriminator's own objective, no reversal (ADDA's discriminator sub-step). */
  classify(source: tf.Tensor2D, target: tf.Tensor2D): { loss: tf.Scalar; accuracy: tf.Scalar } {
    return domainClassification(this.discriminate, tf.concat([source, target], 0) as tf.Tensor2D, source.shape[0], target.shape[0]);
  }

  /** The encoder's objective with inverted labels (ADDA's encoder sub-step). */
  fool(target: tf.Tensor2D): tf.Scalar {
    return invertedLabelLoss(this.discriminate, target);
  }
}
