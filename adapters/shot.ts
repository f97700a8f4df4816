/**
 * `shot` — Source HypOthesis Transfer (Liang et al., "Do We Really Need to Access the Source Data?
 * Source Hypothesis Transfer for Unsupervised Domain Adaptation", ICML 2020). Source-free: the
 * adaptation never reads a source image.
 *
 * 1. Source phase (skipped with `model.from`, whose network is the source model): the encoder, then
 *    SHOT's head: a bottleneck (dense `bottleneck` units + batch norm) and a weight-normalised linear
 *    classifier (models/weight-norm.ts), trained with label-smoothed cross-entropy (epsilon
 *    `smoothing`, 0.1) for `pretrainSteps` (default `train.steps`).
 * 2. Adaptation on unlabelled target only, the hypothesis (the classifier's last layer) frozen, the
 *    feature extractor (encoder + bottleneck) trained with
 *      L = L_IM + beta * CE(pseudo-labels)           (beta 0.3, losses/information.ts)
 *    Pseudo-labels, recomputed `refreshes` times (15, the authors' interval) over the whole target
 *    pool in inference mode: features f (the hypothesis' input) with a 1 appended and L2-normalised;
 *    centroids c_k = sum_i p_ik f_i / sum_i p_ik from the predictions p; each image takes its nearest
 *    centroid by cosine distance (classes predicted more than `threshold` times only); then once
 *    more with centroids of the hard labels (the authors' obtain_label).
 *
 * The run logs `source_batches_after_source_phase`, counted where batches are drawn: 0.
 */
import { z } from 'zod';
import * as tf from '@tensorflow/tfjs';
import { ClassifierAdapter, defineAdapter, variablesOf, type AdapterContext, type LossTerms, type SingleUpdatePhase, type TrainingPhase } from '../src/train/adapter.js';
import { crossEntropy, smoothedCrossEntropy } from '../src/losses/classification.js';
import { informationMaximisation } from '../src/losses/information.js';
import { WeightNormDense } from '../src/models/weight-norm.js';
import { SeededDropout } from '../src/models/builder.js';

const NEEDS = { source: true, targetUnlabelled: true, targetLabels: 'never' } as const;

const options = z
  .object({
    /** Weight of the pseudo-label cross-entropy. */
    beta: z.number().nonnegative().default(0.3),
    /** Weight of the information-maximisation term. */
    im: z.number().nonnegative().default(1),
    /** Label smoothing of the source phase. */
    smoothing: z.number().min(0).max(1).default(0.1),
    /** Units of the bottleneck of SHOT's head (its own source phase only). */
    bottleneck: z.number().int().positive().default(256),
    /** Dropout after the bottleneck's batch norm (the authors' digit code: 0.5; its own source phase only). */
    dropout: z.number().min(0).max(0.95).default(0),
    /** How often the pseudo-labels are recomputed over the adaptation. */
    refreshes: z.number().int().positive().default(15),
    /** A class takes part in the clustering when more than this many images are predicted as it. */
    threshold: z.number().int().nonnegative().default(0),
    /** Source steps of the first phase when there is no `model.from`. */
    pretrainSteps: z.number().int().positive().optional(),
  })
  .strict();
type Options = z.infer<typeof options>;

/** SHOT's head: bottleneck (dense + batch norm) -> weight-normalised linear classifier. */
function shotHead(featureSize: number, bottleneck: number, numClasses: number, seed: number, dropout: number): tf.LayersModel {
  const f = tf.input({ shape: [featureSize], name: 'features' });
  let h = tf.layers.dense({ name: 'shot_bottleneck', units: bottleneck, kernelInitializer: tf.initializers.glorotUniform({ seed }) }).apply(f) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization({ name: 'shot_bn' }).apply(h) as tf.SymbolicTensor;
  // The authors' digit bottleneck (digit/network.py feat_bootleneck 'bn'): Linear, BatchNorm1d, Dropout 0.5.
  if (dropout > 0) h = new SeededDropout({ name: 'shot_dropout', rate: dropout, seed: seed + 2 }).apply(h) as tf.SymbolicTensor;
  const logits = new WeightNormDense({ units: numClasses, name: 'logits', seed: seed + 1 }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: f, outputs: logits, name: 'classifier' });
}

/** SHOT's obtain_label on plain arrays: features [N, D], probabilities [N, K] -> labels [N]. */
export function centroidLabels(features: Float32Array, probs: Float32Array, n: number, d: number, k: number, threshold: number): Int32Array {
  // Features with a 1 appended, L2-normalised rows.
  const dim = d + 1;
  const f = new Float64Array(n * dim);
  for (let i = 0; i < n; i++) {
    let norm = 1;
    for (let j = 0; j < d; j++) norm += features[i * d + j]! ** 2;
    norm = Math.sqrt(norm);
    for (let j = 0; j < d; j++) f[i * dim + j] = features[i * d + j]! / norm;
    f[i * dim + d] = 1 / norm;
  }
  const counts = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (probs[i * k + c]! > probs[i * k + best]!) best = c;
    counts[best]!++;
  }
  const labelset = Array.from({ length: k }, (_, c) => c).filter((c) => counts[c]! > threshold);
  const assign = (weight: (i: number, c: number) => number): Int32Array => {
    const centroids = new Float64Array(k * dim);
    const mass = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      for (const c of labelset) {
        const w = weight(i, c);
        if (w === 0) continue;
        mass[c]! += w;
        for (let j = 0; j < dim; j++) centroids[c * dim + j]! += w * f[i * dim + j]!;
      }
    }
    const norms = new Float64Array(k);
    for (const c of labelset) {
      let s = 0;
      for (let j = 0; j < dim; j++) {
        centroids[c * dim + j]! /= 1e-8 + mass[c]!;
        s += centroids[c * dim + j]! ** 2;
      }
      norms[c] = Math.sqrt(s);
    }
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      // Cosine distance 1 - cos: the rows of f have norm 1; the nearest centroid has the largest cosine.
      let best = labelset[0] ?? 0;
      let bestCos = -Infinity;
      for (const c of labelset) {
        let dot = 0;
        for (let j = 0; j < dim; j++) dot += f[i * dim + j]! * centroids[c * dim + j]!;
        const cos = dot / Math.max(norms[c]!, 1e-12);
        if (cos > bestCos) {
          bestCos = cos;
          best = c;
        }
      }
      labels[i] = best;
    }
    return labels;
  };
  const first = assign((i, c) => probs[i * k + c]!);
  return assign((i, c) => (first[i] === c ? 1 : 0));
}

class Shot extends ClassifierAdapter {
  readonly name = 'shot';
  readonly needs = NEEDS;
  readonly sourceFree = true;
  /** The frozen hypothesis: the classifier's last layer with weights. */
  private hypothesis!: tf.layers.Layer;
  /** Features the hypothesis reads (classifier input -> its input); null: the encoder's output itself. */
  private featureModel: tf.LayersModel | null = null;
  private labels: Int32Array | null = null;
  private refreshed = -1;

  constructor(context: AdapterContext, private readonly options: Options) {
    super(context);
    if (context.targetPool == null) throw new Error('shot needs the target pool (AdapterContext.targetPool)');
    if (!context.pretrained) {
      const featureSize = this.encoder.outputs[0]!.shape[1] as number;
      this.classifier.dispose();
      this.classifier = shotHead(featureSize, options.bottleneck, context.numClasses, context.seed * 13 + 7, options.dropout);
      context.backbone.classifier = this.classifier;
    }
    this.findHypothesis();
  }

  private findHypothesis(): void {
    const weighted = this.classifier.layers.filter((l) => l.trainableWeights.length > 0);
    this.hypothesis = weighted[weighted.length - 1]!;
    const input = this.hypothesis.input as tf.SymbolicTensor;
    this.featureModel = input === this.classifier.inputs[0] ? null : tf.model({ inputs: this.classifier.inputs, outputs: input });
  }

  override phases(steps: number): TrainingPhase[] {
    const adapt: SingleUpdatePhase = {
      name: 'adapt',
      steps,
      needs: { source: false, targetUnlabelled: true, targetLabels: 'never' },
      evaluate: true,
      variableGroups: () => {
        const frozen = new Set(this.hypothesis.trainableWeights.map((w) => w.name));
        const extractor = this.classifier.trainableWeights.filter((w) => !frozen.has(w.name)).map((w) => w.read() as tf.Variable);
        return [{ variables: [...variablesOf(this.encoder), ...this.auxVariables(), ...extractor], lrScale: 1 }];
      },
      prepare: (batch, progress) => {
        const round = Math.floor(progress * this.options.refreshes);
        if (round !== this.refreshed || this.labels == null) {
          this.labels = this.pseudoLabels();
          this.refreshed = round;
        }
        if (batch.targetIndices == null) throw new Error('shot: the target batch carries no indices');
        const labels = Int32Array.from(batch.targetIndices, (i) => this.labels![i]!);
        return { pseudo: tf.oneHot(tf.tensor1d(labels, 'int32'), this.context.numClasses) };
      },
      loss: (batch) => {
        const logits = this.logits(batch.target!);
        const terms: LossTerms = { im: informationMaximisation(logits), pseudo: crossEntropy(logits, batch.prepared!['pseudo'] as tf.Tensor2D) };
        return this.withEntropy(terms, batch);
      },
      weights: () => ({ im: this.options.im, pseudo: this.options.beta, ...this.entropyWeights() }),
    };
    if (this.context.pretrained) return [adapt];
    const source = this.sourcePhase(this.options.pretrainSteps ?? steps);
    const smoothed: SingleUpdatePhase = {
      ...source,
      loss: (batch) => this.withAux((b) => ({ cls: smoothedCrossEntropy(this.logits(b.source!.x), b.source!.y, this.options.smoothing) }))(batch),
    };
    return [smoothed, adapt];
  }

  /** Centroid pseudo-labels of the whole target pool (inference mode; images only). */
  private pseudoLabels(): Int32Array {
    const pool = this.context.targetPool!;
    const k = this.context.numClasses;
    const features: Float32Array[] = [];
    const probs: Float32Array[] = [];
    let d = 0;
    for (const x of pool.batches(256)) {
      tf.tidy(() => {
        const encoded = this.encoder.predict(x) as tf.Tensor2D;
        const f = this.featureModel == null ? encoded : (this.featureModel.predict(encoded) as tf.Tensor2D);
        d = f.shape[1];
        features.push(f.dataSync() as Float32Array);
        probs.push(tf.softmax(this.classifier.predict(encoded) as tf.Tensor2D).dataSync() as Float32Array);
      });
      x.dispose();
    }
    const concat = (parts: Float32Array[]) => {
      const all = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
      let o = 0;
      for (const p of parts) {
        all.set(p, o);
        o += p.length;
      }
      return all;
    };
    return centroidLabels(concat(features), concat(probs), pool.count, d, k, this.options.threshold);
  }

  loss(): LossTerms {
    throw new Error('shot: its phases define their own losses');
  }

  override saveState(): Record<string, unknown> {
    return { labels: this.labels == null ? null : Array.from(this.labels), refreshed: this.refreshed };
  }

  override loadState(state: Record<string, unknown>): void {
    const labels = state['labels'] as number[] | null;
    this.labels = labels == null ? null : Int32Array.from(labels);
    this.refreshed = state['refreshed'] as number;
  }
}

export const shotAdapter = defineAdapter({
  name: 'shot',
  family: 'source-free',
  description: 'source-free: information maximisation + centroid pseudo-labels, the source hypothesis frozen (SHOT)',
  needs: NEEDS,
  options,
  create: (context, opts) => new Shot(context, opts),
});
