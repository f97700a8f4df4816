/**
 * LeNet-5 (LeCun et al. 1998, "Gradient-based learning applied to document recognition"):
 * C1 conv5x5-6, S2 pool 2, C3 conv5x5-16, S4 pool 2, C5 conv5x5-120, F6 fc84, then the head. The
 * paper's 32x32 input; at 28x28 C1 pads by 2 (as the usual MNIST version) so C5 sees 5x5 and
 * gives 1x1. Subsampling is average pooling (`pool: avg`, the paper's; `max` the modern variant).
 * Activation tanh by default (the paper's squashing function; relu learned 0.89x in the first 30
 * steps of the training test, tanh 0.64x). torchvision has no LeNet: there is no ImageNet configuration.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { defineBackbone, type Backbone, type BackboneArgs } from './backbones.js';
import { NetBuilder, activationSchema, layerName } from './builder.js';

export const lenetOptions = z
  .object({
    activation: activationSchema.default('tanh'),
    pool: z.enum(['avg', 'max']).default('avg'),
  })
  .strict();
export type LenetOptions = z.infer<typeof lenetOptions>;

export function buildLenet(args: BackboneArgs, options: LenetOptions): Backbone {
  const { input, seed } = args;
  const b = new NetBuilder(seed, options.activation);
  const x = tf.input({ shape: input, name: 'image' });
  const pool = (h: tf.SymbolicTensor, name: string) => (options.pool === 'avg' ? b.avgPool(h, name, 2, 2) : b.maxPool(h, name, 2, 2));
  b.block('c1');
  let h = b.act(b.conv(x, 'c1', { filters: 6, kernel: 5, pad: input[0] < 32 ? 2 : 0, bias: true, init: 'glorot' }), 'c1.act');
  h = pool(h, 's2');
  const diagnostic = [layerName(h)];
  b.block('c3');
  h = b.act(b.conv(h, 'c3', { filters: 16, kernel: 5, pad: 0, bias: true, init: 'glorot' }), 'c3.act');
  h = pool(h, 's4');
  diagnostic.push(layerName(h));
  b.block('c5');
  h = b.act(b.conv(h, 'c5', { filters: 120, kernel: 5, pad: 0, bias: true, init: 'glorot' }), 'c5.act');
  h = b.flatten(h, 'flatten');
  diagnostic.push(layerName(h));
  b.block('f6');
  const features = b.act(b.dense(h, 'f6', 84), 'f6.act');
  diagnostic.push(layerName(features));
  return b.finish('lenet', x, features, diagnostic, args, (a) => buildLenet(a, options));
}

export const lenet = defineBackbone({
  name: 'lenet',
  description: 'LeNet-5: conv5x5-6, pool, conv5x5-16, pool, conv5x5-120, fc84 (LeCun et al. 1998)',
  defaultInput: [28, 28, 1],
  options: lenetOptions,
  build: buildLenet,
});
