/**
 * `mcd` — Maximum Classifier Discrepancy (Saito et al., "Maximum Classifier Discrepancy for
 * Unsupervised Domain Adaptation", CVPR 2018). A feature generator G (the encoder) and two
 * classifiers F1, F2 (the backbone's head and a second, differently initialised copy). Each step
 * has three sub-steps on the same batches (the paper's Algorithm, its code's defaults):
 *
 *   source:    G, F1, F2   minimise CE(F1) + CE(F2) on source [+ labelled target]
 *   maximise:  F1, F2      minimise CE(F1) + CE(F2) on source - weight * d(F1, F2) on target
 *   minimise:  G           minimise weight * d(F1, F2) on target, `numK` times (4)
 *
 * with d the mean absolute difference of the two softmax outputs (losses/discrepancy.ts). G and the
 * classifiers keep one Adam state each across the sub-steps (the paper's opt_g and opt_c).
 * Prediction: the mean of the two classifiers' probabilities. Logged: `loss/source/cls`,
 * `loss/maximise/discrepancy`, `loss/minimise/discrepancy`, ... A step costs 2 + numK updates.
 */
import { SeededDropout, torchDefaultInit } from '../src/models/builder.js';
import { z } from 'zod';
import * as tf from '@tensorflow/tfjs';
import { ClassifierAdapter, defineAdapter, variablesOf, type AdapterContext, type LossTerms, type SubStep, type TrainBatch, type TrainingPhase } from '../src/train/adapter.js';
import { crossEntropy } from '../src/losses/classification.js';
import { classifierDiscrepancy } from '../src/losses/discrepancy.js';

/** Dropout, Linear, BatchNorm1d, ReLU per hidden layer, then Linear to the classes (PyTorch's default initialisation). */
export function mlpHead(name: string, featureSize: number, hidden: readonly number[], dropout: number, numClasses: number, seed: number): tf.LayersModel {
  const init = (k: number) => torchDefaultInit(seed + k);
  const f = tf.input({ shape: [featureSize], name: `${name}_features` });
  let h: tf.SymbolicTensor = f;
  hidden.forEach((units, i) => {
    if (dropout > 0) h = new SeededDropout({ name: `${name}_drop${i + 1}`, rate: dropout, seed: seed + 100 + i }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.dense({ name: `${name}_fc${i + 1}`, units, kernelInitializer: init(i) }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.batchNormalization({ name: `${name}_bn${i + 1}`, momentum: 0.9, epsilon: 1e-5 }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.activation({ name: `${name}_relu${i + 1}`, activation: 'relu' }).apply(h) as tf.SymbolicTensor;
  });
  const logits = tf.layers.dense({ name: `${name}_logits`, units: numClasses, kernelInitializer: init(hidden.length) }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: f, outputs: logits, name });
}

const NEEDS = { source: true, targetUnlabelled: true, targetLabels: 'optional' } as const;

const options = z
  .object({
    /** Generator updates per step (sub-step C). */
    numK: z.number().int().positive().max(32).default(4),
    /** Weight of the discrepancy in sub-steps B and C. */
    weight: z.number().positive().default(1),
    /**
     * Hidden layers of each classifier: [] (default) keeps the backbone's linear head (and its copy);
     * [1024, 1024] is Transfer-Learning-Library's digit classifier (ImageClassifierHead: Dropout,
     * Linear, BatchNorm1d, ReLU per hidden layer, then Linear), [100, 100] the authors' (usps.py).
     * With two linear heads the generator can zero the discrepancy by collapsing target features.
     */
    hidden: z.array(z.number().int().positive()).max(4).default([]),
    /** Dropout before each hidden layer of the classifiers (with `hidden`). */
    dropout: z.number().min(0).max(0.95).default(0.5),
  })
  .strict();
type Options = z.infer<typeof options>;

class Mcd extends ClassifierAdapter {
  readonly name = 'mcd';
  readonly needs = NEEDS;
  private readonly classifier2: tf.LayersModel;

  constructor(context: AdapterContext, private readonly options: Options) {
    super(context);
    const second = context.backbone.rebuild(1);
    second.encoder.dispose();
    if (options.hidden.length > 0 && !context.pretrained) {
      // The MLP classifiers replace the backbone's head and its copy (F1 and F2 of the paper).
      const featureSize = this.encoder.outputs[0]!.shape[1] as number;
      second.classifier.dispose();
      this.classifier.dispose();
      this.classifier = mlpHead('classifier', featureSize, options.hidden, options.dropout, context.numClasses, context.seed * 37 + 11);
      context.backbone.classifier = this.classifier;
      second.classifier = mlpHead('classifier2', featureSize, options.hidden, options.dropout, context.numClasses, context.seed * 37 + 5011);
    }
    // Trained through the sub-steps' own groups, not trainableVariables().
    this.classifier2 = this.module('classifier2', second.classifier, false);
  }

  private bothLogits(features: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] {
    return [this.classifier.apply(features, { training: true }) as tf.Tensor2D, this.classifier2.apply(features, { training: true }) as tf.Tensor2D];
  }

  /** CE of both classifiers on the source batch (and on the labelled target batch, when given). */
  private classification(batch: TrainBatch): LossTerms {
    const [s1, s2] = this.bothLogits(this.trainFeatures(batch.source!.x));
    const terms: LossTerms = { cls: crossEntropy(s1, batch.source!.y), cls2: crossEntropy(s2, batch.source!.y) };
    if (batch.targetLabelled != null) {
      const [t1, t2] = this.bothLogits(this.trainFeatures(batch.targetLabelled.x));
      terms['cls_target'] = tf.add(crossEntropy(t1, batch.targetLabelled.y), crossEntropy(t2, batch.targetLabelled.y)) as tf.Scalar;
    }
    return terms;
  }

  private discrepancy(batch: TrainBatch): tf.Scalar {
    const [t1, t2] = this.bothLogits(this.trainFeatures(batch.target!));
    return classifierDiscrepancy(t1, t2);
  }

  override phases(steps: number): TrainingPhase[] {
    const generator = { key: 'generator', variables: [...variablesOf(this.encoder), ...this.auxVariables()], lrScale: 1 };
    const classifiers = { key: 'classifiers', variables: [...variablesOf(this.classifier), ...variablesOf(this.classifier2)], lrScale: 1 };
    const w = this.options.weight;
    const subSteps: SubStep[] = [
      {
        name: 'source',
        variableGroups: () => [generator, classifiers],
        loss: (batch) => this.withEntropy(this.withAux((b) => this.classification(b))(batch), batch),
        weights: () => ({ ...this.auxWeights(), ...this.entropyWeights() }),
      },
      {
        name: 'maximise',
        variableGroups: () => [classifiers],
        loss: (batch) => ({ ...this.classification(batch), discrepancy: this.discrepancy(batch) }),
        weights: () => ({ discrepancy: -w }),
      },
      {
        name: 'minimise',
        repeat: this.options.numK,
        variableGroups: () => [generator],
        loss: (batch) => ({ discrepancy: this.discrepancy(batch) }),
        weights: () => ({ discrepancy: w }),
      },
    ];
    return [{ name: 'adapt', steps, needs: NEEDS, evaluate: true, subSteps }];
  }

  loss(): LossTerms {
    throw new Error('mcd: its phase consists of sub-steps');
  }

  /** The mean of the two classifiers' probabilities, as log-probabilities. */
  override predict(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      const f = this.encoder.predict(x) as tf.Tensor2D;
      const p = tf.div(tf.add(tf.softmax(this.classifier.predict(f) as tf.Tensor2D), tf.softmax(this.classifier2.predict(f) as tf.Tensor2D)), 2);
      return tf.log(tf.maximum(p, 1e-12)) as tf.Tensor2D;
    });
  }
}

export const mcdAdapter = defineAdapter({
  name: 'mcd',
  family: 'alignment',
  description: 'two classifiers: maximise their discrepancy on target, the encoder minimises it (MCD)',
  needs: NEEDS,
  options,
  create: (context, opts) => new Mcd(context, opts),
});
