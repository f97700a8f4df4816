/**
 * Backbones: built from a name and an input shape, behind one factory, with named layers so that
 * fine-tuning can freeze "the first K layers" and alignment can pick "the outputs of layer L".
 *
 * A backbone is split into an `encoder` (input -> feature vector) and a `classifier` head
 * (features -> logits), two tfjs Layers models, so strategies can attach discriminators, decoders
 * or teachers to the features without knowing the architecture.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { parseOptions } from '../config/load.js';

export interface BackboneArgs {
  input: [number, number, number];
  numClasses: number;
  /** Seeds the weight initialisers: same seed, same initial weights on every backend. */
  seed: number;
}

/** A named part of the encoder (a stem, a stage or block): what `freeze` counts and names. */
export interface BackboneBlock {
  name: string;
  /** The encoder layers it holds, batch norm included (a batch-norm layer never counts on its own). */
  layers: string[];
}

export interface Backbone {
  name: string;
  readonly encoder: tf.LayersModel;
  /** Replaced by fine-tuning when the class count differs. */
  classifier: tf.LayersModel;
  /** Encoder blocks, input to output: what `freeze: K` counts and `freeze: [names]` takes. */
  blocks: BackboneBlock[];
  /** The layer whose output `features(x)` returns (the default layer alignment strategies read). */
  featureLayer: string;
  /** A handful of layers, input to output, whose outputs the run's diagnostics measure. */
  diagnosticLayers: string[];
  /**
   * Auxiliary classifiers (GoogLeNet's): `training` maps an image to [features, ...auxiliary
   * logits] through the encoder's own layers. Used in training only: the cross-entropy of each on
   * the labelled batch enters the loss as its own term (`names[i]`), weighted by `weight`.
   */
  auxiliary?: { names: string[]; weight: number; training: tf.LayersModel };
  /** A fresh copy of the same architecture (new variables): teachers, private encoders. */
  rebuild(seedOffset?: number): Backbone;
}

/** Block names, input to output. */
export const blockNames = (backbone: Pick<Backbone, 'blocks'>): string[] => backbone.blocks.map((b) => b.name);

/** A model with the outputs of the named encoder layers, flattened to [B, D] each (shares weights). */
/**
 * The variables of each block (what `grad_norm/<block>` sums over), by tf.Variable name, in the
 * backbone's order, then the classifier as `head`.
 */
export function gradientBlocks(backbone: Pick<Backbone, 'blocks' | 'encoder' | 'classifier'>): { name: string; variables: string[] }[] {
  const names = (ws: tf.LayerVariable[]) => ws.map((w) => (w.read() as tf.Variable).name);
  return [
    ...backbone.blocks.map((b) => ({ name: b.name, variables: b.layers.flatMap((l) => names(backbone.encoder.getLayer(l).weights.filter((w) => w.trainable))) })),
    { name: 'head', variables: names(backbone.classifier.weights.filter((w) => w.trainable)) },
  ];
}

export function layerOutputModel(encoder: tf.LayersModel, names: readonly string[]): tf.LayersModel {
  const outputs = names.map((name) => {
    const out = encoder.getLayer(name).output as tf.SymbolicTensor;
    return out.shape.length > 2 ? (tf.layers.flatten({ name: `${name}_flat` }).apply(out) as tf.SymbolicTensor) : out;
  });
  return tf.model({ inputs: encoder.inputs, outputs, name: `${encoder.name}_layers` });
}

/**
 * Frozen means frozen: the batch-norm layers among `layerNames` run in inference mode from now on,
 * in training steps too (their moving statistics stay as they are; tfjs would otherwise update
 * them in every training-mode call, trainable or not).
 */
export function freezeBatchNorm(encoder: tf.LayersModel, layerNames: Iterable<string>): void {
  for (const name of layerNames) {
    const layer = encoder.getLayer(name) as unknown as { getClassName(): string; call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] };
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const call = layer.call.bind(layer);
    layer.call = (inputs, kwargs) => call(inputs, { ...kwargs, training: false });
  }
}

/**
 * Multiply-adds per image of a model's convolutions and dense layers (what the README's "M
 * multiply-adds" figures count; batch norm, activations and pooling are left out).
 */
export function multiplyAdds(model: tf.LayersModel): number {
  let total = 0;
  for (const layer of model.layers) {
    const kind = layer.getClassName();
    if (kind !== 'Conv2D' && kind !== 'DepthwiseConv2D' && kind !== 'Dense') continue;
    const kernel = layer.getWeights()[0]!.shape;
    const out = layer.outputShape as number[];
    // Conv2D [kh, kw, in, out] per output pixel; depthwise [kh, kw, in, multiplier]; dense [in, out].
    const perOutput = kernel.reduce((a, c) => a * c, 1);
    total += kind === 'Dense' ? perOutput : perOutput * out[1]! * out[2]!;
  }
  return total;
}

/** Names of the encoder's layers that hold weights, input to output. */
export function weightedLayerNames(encoder: tf.LayersModel): string[] {
  return encoder.layers.filter((l) => l.weights.length > 0).map((l) => l.name);
}

/** A fresh classifier head on `features`-dimensional inputs. */
export function buildHead(featureSize: number, numClasses: number, seed: number): tf.LayersModel {
  const f = tf.input({ shape: [featureSize], name: 'features' });
  const logits = tf.layers.dense({ name: 'logits', units: numClasses, kernelInitializer: tf.initializers.glorotUniform({ seed }) }).apply(f) as tf.SymbolicTensor;
  return tf.model({ inputs: f, outputs: logits, name: 'classifier' });
}

/** A backbone with its options parsed (`model.backbone`), ready to build at any input shape. */
export interface ConfiguredBackbone {
  readonly factory: BackboneFactory;
  /** The options after their defaults (logged as `model.backbone.*` params). */
  readonly options: Readonly<Record<string, unknown>>;
  build(args: BackboneArgs): Backbone;
}

export interface BackboneFactory {
  name: string;
  description: string;
  /** The input a digit-sized run uses when the file gives none. */
  defaultInput: [number, number, number];
  /** Parses `model.backbone` minus `name` (a plain string: {}); a bad option is a UserError naming it. */
  configure(raw: Readonly<Record<string, unknown>>, origin: string): ConfiguredBackbone;
  /** The backbone at its default options. */
  build(args: BackboneArgs): Backbone;
}

export interface BackboneDefinition<Options> {
  readonly name: string;
  readonly description: string;
  readonly defaultInput: [number, number, number];
  readonly options: z.ZodType<Options>;
  build(args: BackboneArgs, options: Options): Backbone;
}

/** A backbone factory from its definition: the options parsed strictly, one-line errors. */
export function defineBackbone<Options>(definition: BackboneDefinition<Options>): BackboneFactory {
  const factory: BackboneFactory = {
    name: definition.name,
    description: definition.description,
    defaultInput: definition.defaultInput,
    configure(raw, origin) {
      const { options, resolved } = parseOptions(definition.options, raw, origin, ['model', 'backbone'], `backbone '${definition.name}'`);
      return { factory, options: resolved, build: (args) => definition.build(args, options) };
    },
    build: (args) => factory.configure({}, definition.name).build(args),
  };
  return factory;
}

/** `model.backbone` as the file gives it: a name, or a map with `name` and the backbone's options. */
export function backboneSpec(value: string | { name: string; [key: string]: unknown }): { name: string; options: Record<string, unknown> } {
  if (typeof value === 'string') return { name: value, options: {} };
  const { name, ...options } = value;
  return { name, options };
}

/** Deterministic per-layer initialiser seeds derived from the run seed. */
export function seeder(seed: number): () => number {
  let i = 0;
  return () => (seed * 7919 + 104729 * ++i) % 2147483647;
}

export function glorot(next: () => number): ReturnType<typeof tf.initializers.glorotUniform> {
  return tf.initializers.glorotUniform({ seed: next() });
}

/**
 * The digit net of the DANN paper (Ganin et al. 2016, MNIST -> MNIST-M / SVHN experiments):
 * conv5x5-32 (valid) - maxpool 2 - conv5x5-48 (valid) - maxpool 2 - fc100 - fc100 - classifier.
 */
export const digitnet: BackboneFactory = defineBackbone({
  name: 'digitnet',
  description: 'conv5x5-32, pool, conv5x5-48, pool, fc100, fc100 (DANN digit net)',
  defaultInput: [28, 28, 1],
  options: z.object({}).strict(),
  build(args) {
    const { input, numClasses, seed } = args;
    const next = seeder(seed);
    const x = tf.input({ shape: input, name: 'image' });
    let h = tf.layers.conv2d({ name: 'conv1', filters: 32, kernelSize: 5, padding: 'valid', activation: 'relu', kernelInitializer: glorot(next) }).apply(x) as tf.SymbolicTensor;
    h = tf.layers.maxPooling2d({ name: 'pool1', poolSize: 2, strides: 2 }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.conv2d({ name: 'conv2', filters: 48, kernelSize: 5, padding: 'valid', activation: 'relu', kernelInitializer: glorot(next) }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.maxPooling2d({ name: 'pool2', poolSize: 2, strides: 2 }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.flatten({ name: 'flatten' }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.dense({ name: 'fc1', units: 100, activation: 'relu', kernelInitializer: glorot(next) }).apply(h) as tf.SymbolicTensor;
    const features = tf.layers.dense({ name: 'fc2', units: 100, activation: 'relu', kernelInitializer: glorot(next) }).apply(h) as tf.SymbolicTensor;
    const encoder = tf.model({ inputs: x, outputs: features, name: 'encoder' });

    const classifier = buildHead(100, numClasses, next());
    return {
      name: 'digitnet',
      encoder,
      classifier,
      // Pools and flatten hold no weights: each block is its one weighted layer (as in 0.1).
      blocks: ['conv1', 'conv2', 'fc1', 'fc2'].map((name) => ({ name, layers: [name] })),
      featureLayer: 'fc2',
      diagnosticLayers: ['conv1', 'conv2', 'fc1', 'fc2'],
      rebuild: (offset = 1) => digitnet.build({ ...args, seed: seed + 7777 * offset }),
    };
  },
});
