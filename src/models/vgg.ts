/**
 * VGG (Simonyan and Zisserman 2015): stacks of 3x3 convolutions (padding 1, with bias) and 2x2 max
 * pools, `depth: 11 | 13 | 16 | 19` (configurations A, B, D, E), batch norm after every
 * convolution with `norm: batch` (torchvision's vgg16_bn) or none (vgg16). `variant: torchvision`
 * (224x224x3): 64-128-256-512-512 channels, adaptive average pool to 7x7, fc4096, dropout,
 * fc4096, dropout, head; layer names are torchvision's (`features.0`, ..., `classifier.0`,
 * `classifier.3`). `variant: digit` (the default): the same stacks at `width` 0.125 (8 to 64
 * channels), ceil-mode pools (28 -> 14 -> 7 -> 4 -> 2 -> 1), two fc256 layers.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { defineBackbone, type Backbone, type BackboneArgs } from './backbones.js';
import { NetBuilder, activationSchema, layerName } from './builder.js';

/** Convolutions per stage of torchvision's cfgs A, B, D, E. */
const STAGES: Record<number, number[]> = { 11: [1, 1, 2, 2, 2], 13: [2, 2, 2, 2, 2], 16: [2, 2, 3, 3, 3], 19: [2, 2, 4, 4, 4] };
const CHANNELS = [64, 128, 256, 512, 512];

export const vggOptions = z
  .object({
    /** Default 11 digit-sized, 16 torchvision. */
    depth: z.union([z.literal(11), z.literal(13), z.literal(16), z.literal(19)]).optional(),
    norm: z.enum(['batch', 'none']).default('batch'),
    variant: z.enum(['digit', 'torchvision']).default('digit'),
    width: z.number().positive().optional(),
    fc: z.number().int().positive().optional(),
    /** Dropout before each hidden fc layer (default 0.2 digit-sized: 0.5 slows the first hundred steps of 256-wide layers; 0.5 torchvision, the paper's). */
    dropout: z.number().min(0).max(0.95).optional(),
    activation: activationSchema.default('relu'),
  })
  .strict();
export type VggOptions = z.infer<typeof vggOptions>;

export function buildVgg(args: BackboneArgs, options: VggOptions): Backbone {
  const { input, seed } = args;
  const tv = options.variant === 'torchvision';
  const width = options.width ?? (tv ? 1 : 0.125);
  const fc = options.fc ?? (tv ? 4096 : 256);
  const dropout = options.dropout ?? (tv ? 0.5 : 0.2);
  const b = new NetBuilder(seed, options.activation);
  const x = tf.input({ shape: input, name: 'image' });
  let h = x;
  let index = 0;
  const diagnostic: string[] = [];
  STAGES[options.depth ?? (tv ? 16 : 11)]!.forEach((convs, stage) => {
    b.block(`stage${stage + 1}`);
    for (let i = 0; i < convs; i++) {
      h = b.conv(h, `features.${index++}`, { filters: Math.max(1, Math.round(CHANNELS[stage]! * width)), kernel: 3, bias: true, init: 'he' });
      if (options.norm === 'batch') h = b.norm(h, `features.${index++}`);
      h = b.act(h, `features.${index++}`);
    }
    h = b.maxPool(h, `features.${index++}`, 2, 2, 0, !tv);
    diagnostic.push(layerName(h));
  });
  if (tv) h = b.adaptiveAvgPool(h, 'avgpool', 7);
  h = b.flatten(h, 'flatten');
  b.block('fc6');
  h = b.dropout(b.act(b.dense(h, 'classifier.0', fc), 'classifier.1'), 'classifier.2', dropout);
  b.block('fc7');
  const features = b.dropout(b.act(b.dense(h, 'classifier.3', fc), 'classifier.4'), 'classifier.5', dropout);
  diagnostic.push(layerName(features));
  return b.finish('vgg', x, features, diagnostic, args, (a) => buildVgg(a, options));
}

export const vgg = defineBackbone({
  name: 'vgg',
  description: 'VGG: stacks of 3x3 convolutions (depth 11, 13, 16, 19), optional batch norm, max pools, two fc layers (default digit-sized: depth 11 with batch norm; depth 16 at variant: torchvision)',
  defaultInput: [28, 28, 1],
  options: vggOptions,
  build: buildVgg,
});
