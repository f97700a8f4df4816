/**
 * Backbones: built from a name and an input shape, behind one factory, with named layers so that
 * fine-tuning can freeze "the first K layers" and alignment can pick "the outputs of layer L".
 *
 * A backbone is split into an `encoder` (input -> feature vector) and a `classifier` head
 * (features -> logits), two tfjs Layers models, so strategies can attach discriminators, decoders
 * or teachers to the features without knowing the architecture.
 */
import * as tf from '@tensorflow/tfjs';

export interface BackboneArgs {
  input: [number, number, number];
  numClasses: number;
  /** Seeds the weight initialisers: same seed, same initial weights on every backend. */
  seed: number;
}

export interface Backbone {
  name: string;
  readonly encoder: tf.LayersModel;
  /** Replaced by fine-tuning when the class count differs. */
  classifier: tf.LayersModel;
  /** Encoder layers with weights, input to output: what `freeze: K` counts and `layers:` names. */
  layerNames: string[];
  /** The layer whose output `features(x)` returns. */
  featureLayer: string;
  /** A fresh copy of the same architecture (new variables): teachers, private encoders. */
  rebuild(seedOffset?: number): Backbone;
}

/** A model with the outputs of the named encoder layers, flattened to [B, D] each (shares weights). */
export function layerOutputModel(encoder: tf.LayersModel, names: readonly string[]): tf.LayersModel {
  const outputs = names.map((name) => {
    const out = encoder.getLayer(name).output as tf.SymbolicTensor;
    return out.shape.length > 2 ? (tf.layers.flatten({ name: `${name}_flat` }).apply(out) as tf.SymbolicTensor) : out;
  });
  return tf.model({ inputs: encoder.inputs, outputs, name: `${encoder.name}_layers` });
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

export interface BackboneFactory {
  name: string;
  description: string;
  build(args: BackboneArgs): Backbone;
}

/** Deterministic per-layer initialiser seeds derived from the run seed. */
function seeder(seed: number): () => number {
  let i = 0;
  return () => (seed * 7919 + 104729 * ++i) % 2147483647;
}

function glorot(next: () => number): ReturnType<typeof tf.initializers.glorotUniform> {
  return tf.initializers.glorotUniform({ seed: next() });
}

/**
 * The digit net of the DANN paper (Ganin et al. 2016, MNIST -> MNIST-M / SVHN experiments):
 * conv5x5-32 (valid) - maxpool 2 - conv5x5-48 (valid) - maxpool 2 - fc100 - fc100 - classifier.
 */
export const digitnet: BackboneFactory = {
  name: 'digitnet',
  description: 'conv5x5-32, pool, conv5x5-48, pool, fc100, fc100 (DANN digit net)',
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
      layerNames: ['conv1', 'conv2', 'fc1', 'fc2'],
      featureLayer: 'fc2',
      rebuild: (offset = 1) => digitnet.build({ ...args, seed: seed + 7777 * offset }),
    };
  },
};

