/**
 * `lenet-da`: the LeNet of the digit-adaptation papers and their reference code (ADDA, CDAN,
 * Transfer-Learning-Library's `lenet` in tllib/vision/models/digits.py, from Caffe's MNIST
 * example): conv5x5-20, maxpool 2, ReLU, conv5x5-50, Dropout2d 0.5, maxpool 2, ReLU, fc500, ReLU,
 * dropout 0.5; then Transfer-Learning-Library's bottleneck (ImageClassifier: Linear 500 -> 256,
 * BatchNorm1d, ReLU), whose output is the feature vector the head, DANN's discriminator, CDAN's
 * conditioning and DAN's MMD read. `bottleneck: 0` leaves it out (features = the fc500 output).
 * PyTorch's default initialisation (U(+-1/sqrt(fan_in)) for every kernel). 28x28 input, 1 channel
 * (or 3); the convolutions are unpadded, so 28x28 gives 4x4x50 = 800 inputs to fc500.
 *
 * dalab's `lenet` is LeNet-5 (6/16/120, tanh, average pooling): a different, smaller network.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { defineBackbone, type Backbone, type BackboneArgs } from './backbones.js';
import { NetBuilder, layerName } from './builder.js';

export const lenetDaOptions = z
  .object({
    /** Units of the fully connected layer after the convolutions; 0 = none (features: the 800 conv outputs, SHOT's LeNetBase). */
    fc: z.number().int().nonnegative().default(500),
    /** Units of the bottleneck (Linear + BatchNorm1d + ReLU) after fc500; 0 = none. */
    bottleneck: z.number().int().nonnegative().default(256),
    /** bn: Linear, BatchNorm1d, ReLU (Transfer-Learning-Library's ImageClassifier: DANN, CDAN, MCC); dropout: Linear, ReLU, Dropout 0.5 (its DAN and JAN). */
    bottleneckKind: z.enum(['bn', 'dropout']).default('bn'),
    /** Dropout after conv2 (whole channels) and after fc500. */
    dropout: z.number().min(0).max(0.95).default(0.5),
  })
  .strict();
export type LenetDaOptions = z.infer<typeof lenetDaOptions>;

export function buildLenetDa(args: BackboneArgs, options: LenetDaOptions): Backbone {
  const { input, seed } = args;
  const b = new NetBuilder(seed, 'relu');
  const x = tf.input({ shape: input, name: 'image' });
  b.block('conv1');
  let h = b.conv(x, 'conv1', { filters: 20, kernel: 5, pad: 0, bias: true, init: 'torch' });
  h = b.act(b.maxPool(h, 'pool1', 2, 2), 'relu1');
  const diagnostic = [layerName(h)];
  b.block('conv2');
  h = b.conv(h, 'conv2', { filters: 50, kernel: 5, pad: 0, bias: true, init: 'torch' });
  h = b.dropout(h, 'drop2', options.dropout, true);
  h = b.act(b.maxPool(h, 'pool2', 2, 2), 'relu2');
  h = b.flatten(h, 'flatten');
  diagnostic.push(layerName(h));
  if (options.fc > 0) {
    b.block('fc3');
    h = b.dropout(b.act(b.dense(h, 'fc3', options.fc, 'torch'), 'relu3'), 'drop3', options.dropout);
    diagnostic.push(layerName(h));
  }
  let features = h;
  if (options.bottleneck > 0) {
    b.block('bottleneck');
    const dense = b.dense(h, 'bottleneck', options.bottleneck, 'torch');
    features =
      options.bottleneckKind === 'bn'
        ? b.act(b.norm(dense, 'bottleneck.bn'), 'bottleneck.relu')
        : b.dropout(b.act(dense, 'bottleneck.relu'), 'bottleneck.drop', 0.5);
    diagnostic.push(layerName(features));
  }
  return b.finish('lenet-da', x, features, diagnostic, args, (a) => buildLenetDa(a, options));
}

export const lenetDa = defineBackbone({
  name: 'lenet-da',
  description: 'LeNet of the digit-adaptation papers: conv5x5-20, pool, conv5x5-50, pool, fc500, dropout, bottleneck 256 (Transfer-Learning-Library)',
  defaultInput: [28, 28, 1],
  options: lenetDaOptions,
  build: buildLenetDa,
});
