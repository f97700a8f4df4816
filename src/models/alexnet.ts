/**
 * AlexNet (Krizhevsky et al. 2012), as torchvision's single-tower version builds it
 * (`variant: torchvision`, 224x224x3): conv11x11/4-64 (pad 2), maxpool 3/2, conv5x5-192, maxpool,
 * conv3x3-384, -256, -256, maxpool, adaptive average pool to 6x6, dropout, fc4096, dropout,
 * fc4096, head; ReLU throughout. Layer names are torchvision's parameter prefixes (`features.0`,
 * ..., `classifier.1`, `classifier.4`).
 *
 * `variant: digit` (the default) keeps the shape of the network at 28x28 / 32x32: the large
 * strided first kernel scaled down to 5x5 stride 2, the same five convolutions at `width` (0.25:
 * 16, 48, 96, 64, 64 channels), 3x3/2 max pools padded by 1, two fc256 layers.
 * The digit variant adds batch norm after each convolution (`norm: batch`; without it the plain
 * 8-layer net barely moved in 30 steps: 0.90x) and fan-in He initialisation; `norm: none` is
 * the original. `lrn: true` adds the paper's local response normalisation after the first two ReLUs
 * (size 5, alpha 1e-4, beta 0.75, k 2; torchvision's AlexNet has none).
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { defineBackbone, type Backbone, type BackboneArgs } from './backbones.js';
import { NetBuilder, activationSchema, layerName } from './builder.js';

/** PyTorch's LocalResponseNorm(size, alpha, beta, k) across channels: x / (k + alpha / size * sum x^2)^beta. */
export class LocalResponseNorm extends tf.layers.Layer {
  static readonly className = 'DalabLocalResponseNorm';
  private readonly size: number;
  private readonly alpha: number;
  private readonly beta: number;
  private readonly k: number;

  constructor(config: { size: number; alpha: number; beta: number; k: number; name?: string }) {
    super(config);
    ({ size: this.size, alpha: this.alpha, beta: this.beta, k: this.k } = config);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D;
    // TensorFlow sums over [c - r, c + r] and multiplies by alpha: r = (size - 1) / 2, alpha / size.
    return tf.localResponseNormalization(x, (this.size - 1) / 2, this.k, this.alpha / this.size, this.beta);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), size: this.size, alpha: this.alpha, beta: this.beta, k: this.k };
  }
}
tf.serialization.registerClass(LocalResponseNorm);

export const alexnetOptions = z
  .object({
    variant: z.enum(['digit', 'torchvision']).default('digit'),
    /** Multiplies every convolution's channels (default 0.25 digit-sized, 1 torchvision). */
    width: z.number().positive().optional(),
    /** Units of the two hidden fc layers (default 256 digit-sized, 4096 torchvision). */
    fc: z.number().int().positive().optional(),
    /** Dropout before each hidden fc layer (default 0.2 digit-sized: 0.5 slows the first hundred steps of 256-wide layers; 0.5 torchvision, the paper's). */
    dropout: z.number().min(0).max(0.95).optional(),
    lrn: z.boolean().default(false),
    /** Batch norm after each convolution (default batch digit-sized, none torchvision). */
    norm: z.enum(['batch', 'none']).optional(),
    activation: activationSchema.default('relu'),
  })
  .strict();
export type AlexnetOptions = z.infer<typeof alexnetOptions>;

export function buildAlexnet(args: BackboneArgs, options: AlexnetOptions): Backbone {
  const { input, seed } = args;
  const tv = options.variant === 'torchvision';
  const width = options.width ?? (tv ? 1 : 0.25);
  const fc = options.fc ?? (tv ? 4096 : 256);
  const ch = (c: number) => Math.max(1, Math.round(c * width));
  const dropout = options.dropout ?? (tv ? 0.5 : 0.2);
  const b = new NetBuilder(seed, options.activation);
  const x = tf.input({ shape: input, name: 'image' });
  const norm = options.norm ?? (tv ? 'none' : 'batch');
  const conv = (h: tf.SymbolicTensor, index: number, filters: number, kernel: number, stride = 1, pad = (kernel - 1) / 2) => {
    const c = b.conv(h, `features.${index}`, { filters: ch(filters), kernel, stride, pad, bias: norm === 'none', init: tv ? 'glorot' : 'he-in' });
    return b.act(norm === 'batch' ? b.norm(c, `features.${index}.bn`) : c, `features.${index + 1}`);
  };
  const pool = (h: tf.SymbolicTensor, index: number) => (tv ? b.maxPool(h, `features.${index}`, 3, 2) : b.maxPool(h, `features.${index}`, 3, 2, 1));
  const lrn = (h: tf.SymbolicTensor, name: string) => (options.lrn ? b.apply(new LocalResponseNorm({ name, size: 5, alpha: 1e-4, beta: 0.75, k: 2 }), h) : h);

  b.block('conv1');
  let h = tv ? conv(x, 0, 64, 11, 4, 2) : conv(x, 0, 64, 5, 2, 2);
  h = pool(lrn(h, 'lrn1'), 2);
  const diagnostic = [layerName(h)];
  b.block('conv2');
  h = pool(lrn(conv(h, 3, 192, 5), 'lrn2'), 5);
  diagnostic.push(layerName(h));
  b.block('conv3');
  h = conv(h, 6, 384, 3);
  b.block('conv4');
  h = conv(h, 8, 256, 3);
  b.block('conv5');
  h = pool(conv(h, 10, 256, 3), 12);
  if (tv) h = b.adaptiveAvgPool(h, 'avgpool', 6);
  h = b.flatten(h, 'flatten');
  diagnostic.push(layerName(h));
  b.block('fc6');
  h = b.act(b.dense(b.dropout(h, 'classifier.0', dropout), 'classifier.1', fc), 'classifier.2');
  b.block('fc7');
  const features = b.act(b.dense(b.dropout(h, 'classifier.3', dropout), 'classifier.4', fc), 'classifier.5');
  diagnostic.push(layerName(features));
  return b.finish('alexnet', x, features, diagnostic, args, (a) => buildAlexnet(a, options));
}

export const alexnet = defineBackbone({
  name: 'alexnet',
  description: 'AlexNet: large strided first kernel, five convolutions, max pools, two fc layers with dropout (torchvision\'s single tower at variant: torchvision)',
  defaultInput: [28, 28, 1],
  options: alexnetOptions,
  build: buildAlexnet,
});
