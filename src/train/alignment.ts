/**
 * Shared by the feature-alignment strategies (mmd, coral): which encoder layers to align and with
 * what weight, and one forward pass that yields every aligned layer's output plus the logits.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { UserError, messages } from '../messages.js';
import { layerOutputModel, weightedLayerNames, type Backbone } from '../models/backbones.js';
import { ClassifierAdapter, type AdapterContext, type AdapterNeeds, type LossTerms, type TrainBatch } from './adapter.js';
import { crossEntropy } from '../losses/classification.js';
import { grlSchedule } from '../losses/domain.js';

export const alignedLayersSchema = z
  .array(z.union([z.string(), z.object({ name: z.string(), weight: z.number().nonnegative().default(1) }).strict()]))
  .min(1)
  .optional();

export interface AlignedLayer {
  name: string;
  weight: number;
}

export function resolveLayers(backbone: Backbone, option: z.infer<typeof alignedLayersSchema>, strategy: string): AlignedLayer[] {
  const allowed = weightedLayerNames(backbone.encoder);
  const layers = (option ?? [backbone.featureLayer]).map((l) => (typeof l === 'string' ? { name: l, weight: 1 } : { name: l.name, weight: l.weight }));
  for (const l of layers) {
    if (!allowed.includes(l.name)) throw new UserError(messages.unknownLayer(strategy, l.name, allowed));
  }
  return layers;
}

/** Forward pass returning the outputs of `layers` (flattened) and the class logits. */
export class LayerTap {
  private readonly model: tf.LayersModel;
  private readonly featureIndex: number;

  constructor(
    private readonly backbone: Backbone,
    readonly layers: readonly AlignedLayer[],
  ) {
    const names = layers.map((l) => l.name);
    this.featureIndex = names.indexOf(backbone.featureLayer);
    if (this.featureIndex < 0) names.push(backbone.featureLayer);
    this.model = layerOutputModel(backbone.encoder, names);
    if (this.featureIndex < 0) this.featureIndex = names.length - 1;
  }

  /** Training-mode outputs: one [B, D_l] per aligned layer, and logits [B, K]. */
  apply(x: tf.Tensor4D): { layers: tf.Tensor2D[]; logits: tf.Tensor2D } {
    const raw = this.model.apply(x, { training: true });
    const outputs = (Array.isArray(raw) ? raw : [raw]) as tf.Tensor2D[];
    const logits = this.backbone.classifier.apply(outputs[this.featureIndex]!, { training: true }) as tf.Tensor2D;
    return { layers: outputs.slice(0, this.layers.length), logits };
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
    return { [this.term]: this.options.weight * (this.options.rampUp ? grlSchedule(progress) : 1) };
  }
}
