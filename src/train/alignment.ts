/**
 * Shared by the alignment strategies: which layers mmd and coral align (and with what weight) or
 * dann's discriminator reads, and one forward pass that yields those outputs plus the logits.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { UserError, messages } from '../messages.js';
import { layerOutputModel, type Backbone } from '../models/backbones.js';
import { ClassifierAdapter, type AdapterContext, type AdapterNeeds, type LossTerms, type TrainBatch } from './adapter.js';
import { crossEntropy } from '../losses/classification.js';
import { sigmoidRamp } from '../losses/domain.js';

export const alignedLayersSchema = z
  .array(z.union([z.string(), z.object({ name: z.string(), weight: z.number().nonnegative().default(1) }).strict()]))
  .min(1)
  .optional();

export interface AlignedLayer {
  name: string;
  weight: number;
}

/** The name under which strategies may align or discriminate the classifier's output (its logits). */
export const LOGITS_LAYER = 'logits';

/**
 * Layers whose outputs a strategy may align or discriminate: every encoder layer after the input,
 * then `logits`, the classifier's output (Deep CORAL aligns the last classification layer; DAN
 * aligns the last fully connected layers, the classifier's included).
 */
export function alignableLayerNames(backbone: Backbone): string[] {
  const inputs = new Set(backbone.encoder.inputLayers.map((l) => l.name));
  return [...backbone.encoder.layers.filter((l) => !inputs.has(l.name)).map((l) => l.name), LOGITS_LAYER];
}

export function resolveLayers(backbone: Backbone, option: z.infer<typeof alignedLayersSchema>, strategy: string, key = 'layers'): AlignedLayer[] {
  const allowed = alignableLayerNames(backbone);
  const layers = (option ?? [backbone.featureLayer]).map((l) => (typeof l === 'string' ? { name: l, weight: 1 } : { name: l.name, weight: l.weight }));
  for (const l of layers) {
    if (!allowed.includes(l.name)) throw new UserError(messages.unknownLayer(key, strategy, l.name, allowed));
  }
  return layers;
}

/** Forward pass returning the outputs of `layers` (flattened) and the class logits. */
export class LayerTap {
  private readonly model: tf.LayersModel;
  /** Per tapped layer: its index among the encoder model's outputs, or -1 for the logits. */
  private readonly outputIndex: number[];
  private readonly featureIndex: number;
  /** Flattened size of each tapped layer's output. */
  readonly sizes: number[];

  constructor(
    private readonly backbone: Backbone,
    readonly layers: readonly AlignedLayer[],
  ) {
    const names = [...new Set([...layers.map((l) => l.name).filter((n) => n !== LOGITS_LAYER), backbone.featureLayer])];
    this.model = layerOutputModel(backbone.encoder, names);
    this.featureIndex = names.indexOf(backbone.featureLayer);
    this.outputIndex = layers.map((l) => (l.name === LOGITS_LAYER ? -1 : names.indexOf(l.name)));
    const logitsSize = backbone.classifier.outputs[0]!.shape[1] as number;
    this.sizes = this.outputIndex.map((i) => (i < 0 ? logitsSize : (this.model.outputs[i]!.shape[1] as number)));
  }

  /** Training-mode outputs: one [B, D_l] per tapped layer, and logits [B, K]. */
  apply(x: tf.Tensor4D): { layers: tf.Tensor2D[]; logits: tf.Tensor2D } {
    const raw = this.model.apply(x, { training: true });
    const outputs = (Array.isArray(raw) ? raw : [raw]) as tf.Tensor2D[];
    const logits = this.backbone.classifier.apply(outputs[this.featureIndex]!, { training: true }) as tf.Tensor2D;
    return { layers: this.outputIndex.map((i) => (i < 0 ? logits : outputs[i]!)), logits };
  }
}

export const alignmentOptions = {
  weight: z.number().nonnegative().default(1),
  /** Ramp the weight up as lambda(p) = 2/(1+exp(-10p)) - 1 (as DANN's reversal coefficient). */
  rampUp: z.boolean().default(true),
  layers: alignedLayersSchema,
};

export interface AlignmentOptions {
  weight: number;
  rampUp: boolean;
  layers?: z.infer<typeof alignedLayersSchema>;
}

/**
 * A strategy that adds `weight * sum_l w_l distance(source_l, target_l)` over aligned layers to the
 * source classification loss (and the labelled-target term when there are target labels).
 */
export abstract class LayerAlignmentAdapter<O extends AlignmentOptions> extends ClassifierAdapter {
  readonly needs: AdapterNeeds = { source: true, targetUnlabelled: true, targetLabels: 'optional' };
  private readonly tap: LayerTap;

  constructor(
    context: AdapterContext,
    protected readonly options: O,
    /** The loss term's name, also the strategy's. */
    private readonly term: string,
  ) {
    super(context);
    this.tap = new LayerTap(context.backbone, resolveLayers(context.backbone, options.layers, term));
  }

  /** The distance between source and target outputs of one layer: [B, D] x [B, D] -> scalar. */
  protected abstract distance(source: tf.Tensor2D, target: tf.Tensor2D): tf.Scalar;

  loss(batch: TrainBatch): LossTerms {
    const source = this.tap.apply(batch.source!.x);
    const target = this.tap.apply(batch.target!);
    let alignment: tf.Scalar = tf.scalar(0);
    this.tap.layers.forEach((layer, i) => {
      alignment = tf.add(alignment, tf.mul(this.distance(source.layers[i]!, target.layers[i]!), layer.weight));
    });
    return { cls: crossEntropy(source.logits, batch.source!.y), [this.term]: alignment, ...this.targetTerm(batch) };
  }

  override weights(progress: number): Record<string, number> {
    return { [this.term]: this.options.weight * (this.options.rampUp ? sigmoidRamp(progress) : 1) };
  }
}
