/**
 * GoogLeNet / Inception v1 (Szegedy et al. 2015) as torchvision builds it: every convolution is
 * conv (no bias) + batch norm (eps 0.001) + activation ("BasicConv2d"); an inception module runs
 * four branches in parallel on the same input and concatenates them: 1x1; 1x1 -> 3x3; 1x1 -> 3x3
 * (torchvision's 3x3 where the paper has 5x5); 3x3 max pool -> 1x1. Two **auxiliary classifiers**
 * (after 4a and 4d: 4x4 average pool, 1x1 conv-128, fc1024, dropout 0.7, fc) add their
 * cross-entropy to the training loss as the terms `aux1` and `aux2`, weighted by `auxWeight`
 * (0.3 in the paper), so that gradient reaches the early layers directly; they exist in training
 * only (evaluation and features use the main head).
 * `variant: torchvision` (224x224x3): conv7x7/2-64, maxpool, conv1x1-64, conv3x3-192, maxpool,
 * 3a, 3b, maxpool, 4a-4e, maxpool, 5a, 5b, global average pool, dropout 0.2, head; ceil-mode
 * pools; names are torchvision's (`conv1.conv`, `inception3a.branch2.1.conv`, `aux1.fc1`, ...).
 * `variant: digit` (the default): conv3x3-64 stem, the same modules at `width` 0.5 (0.25 learned too slowly in the first 30 steps: 0.84x, 0.5: 0.67x),
 * 28 -> 14 -> 7 -> 4 -> 2.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { buildHead, defineBackbone, type Backbone, type BackboneArgs } from './backbones.js';
import { NetBuilder, activationSchema, layerName } from './builder.js';

/** torchvision's modules: in (implied), ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj. */
const MODULES: [string, number, number, number, number, number, number][] = [
  ['3a', 64, 96, 128, 16, 32, 32],
  ['3b', 128, 128, 192, 32, 96, 64],
  ['4a', 192, 96, 208, 16, 48, 64],
  ['4b', 160, 112, 224, 24, 64, 64],
  ['4c', 128, 128, 256, 24, 64, 64],
  ['4d', 112, 144, 288, 32, 64, 64],
  ['4e', 256, 160, 320, 32, 128, 128],
  ['5a', 256, 160, 320, 32, 128, 128],
  ['5b', 384, 192, 384, 48, 128, 128],
];

export const inceptionOptions = z
  .object({
    variant: z.enum(['digit', 'torchvision']).default('digit'),
    width: z.number().positive().optional(),
    /** The two auxiliary classifiers (training only). */
    aux: z.boolean().default(true),
    auxWeight: z.number().min(0).default(0.3),
    dropout: z.number().min(0).max(0.95).optional(),
    activation: activationSchema.default('relu'),
  })
  .strict();
export type InceptionOptions = z.infer<typeof inceptionOptions>;

export function buildInception(args: BackboneArgs, options: InceptionOptions): Backbone {
  const { input, numClasses, seed } = args;
  const tv = options.variant === 'torchvision';
  const width = options.width ?? (tv ? 1 : 0.5);
  const ch = (c: number) => Math.max(1, Math.round(c * width));
  const b = new NetBuilder(seed, options.activation);
  const x = tf.input({ shape: input, name: 'image' });
  const basic = (h: tf.SymbolicTensor, name: string, filters: number, kernel: number, stride = 1) =>
    b.act(b.norm(b.conv(h, `${name}.conv`, { filters, kernel, stride, init: 'glorot' }), `${name}.bn`, { eps: 1e-3 }), `${name}.act`);
  const pool = (h: tf.SymbolicTensor, name: string, kernel = 3, stride = 2) => b.maxPool(h, name, kernel, stride, 0, true);

  b.block('stem');
  let h = tv ? basic(x, 'conv1', 64, 7, 2) : basic(x, 'conv1', ch(64), 3);
  h = pool(h, 'maxpool1');
  h = basic(h, 'conv2', ch(64), 1);
  h = basic(h, 'conv3', ch(192), 3);
  h = pool(h, 'maxpool2');
  const diagnostic = [layerName(h)];
  const auxInputs: tf.SymbolicTensor[] = [];
  for (const [name, c1, c3r, c3, c5r, c5, pp] of MODULES) {
    const prefix = `inception${name}`;
    if (name === '4a') h = pool(h, 'maxpool3');
    if (name === '5a') h = pool(h, 'maxpool4', 2, 2);
    b.block(prefix);
    const branch1 = basic(h, `${prefix}.branch1`, ch(c1), 1);
    const branch2 = basic(basic(h, `${prefix}.branch2.0`, ch(c3r), 1), `${prefix}.branch2.1`, ch(c3), 3);
    const branch3 = basic(basic(h, `${prefix}.branch3.0`, ch(c5r), 1), `${prefix}.branch3.1`, ch(c5), 3);
    // torchvision: MaxPool2d(3, stride 1, padding 1, ceil_mode) then BasicConv2d 1x1.
    const branch4 = basic(b.maxPool(h, `${prefix}.branch4.0`, 3, 1, 1, true), `${prefix}.branch4.1`, ch(pp), 1);
    h = b.concat([branch1, branch2, branch3, branch4], `${prefix}.concat`);
    if (name === '4a' || name === '4d') auxInputs.push(h);
    if (name === '3b' || name === '4e' || name === '5b') diagnostic.push(layerName(h));
  }
  h = b.globalAvgPool(h, 'avgpool');
  const features = b.dropout(h, 'dropout', options.dropout ?? (tv ? 0.2 : 0));
  diagnostic.push(layerName(features));
  const encoder = tf.model({ inputs: x, outputs: features, name: 'encoder' });

  let auxiliary: Backbone['auxiliary'];
  if (options.aux) {
    // Layers outside the encoder's blocks: trained with it, never frozen, never evaluated.
    const heads = auxInputs.map((t, i) => {
      const name = `aux${i + 1}`;
      const a = new NetBuilder(seed * 13 + i + 1, options.activation);
      let y = (t.shape[1] as number) <= 4 ? t : a.adaptiveAvgPool(t, `${name}.pool`, 4);
      y = a.act(a.norm(a.conv(y, `${name}.conv.conv`, { filters: ch(128), kernel: 1, init: 'glorot' }), `${name}.conv.bn`, { eps: 1e-3 }), `${name}.conv.act`);
      y = a.flatten(y, `${name}.flatten`);
      y = a.act(a.dense(y, `${name}.fc1`, ch(1024)), `${name}.relu`, 'relu');
      y = a.dropout(y, `${name}.dropout`, 0.7);
      return { name, logits: a.dense(y, `${name}.fc2`, numClasses) };
    });
    auxiliary = {
      names: heads.map((hd) => hd.name),
      weight: options.auxWeight,
      training: tf.model({ inputs: x, outputs: [features, ...heads.map((hd) => hd.logits)], name: 'encoder_with_aux' }),
    };
  }
  return {
    name: 'inception',
    encoder,
    classifier: buildHead(features.shape[1] as number, numClasses, b.next()),
    blocks: b.blocks,
    featureLayer: layerName(features),
    diagnosticLayers: diagnostic,
    ...(auxiliary != null ? { auxiliary } : {}),
    rebuild: (offset = 1) => buildInception({ ...args, seed: seed + 7777 * offset }, options),
  };
}

export const inception = defineBackbone({
  name: 'inception',
  description: 'GoogLeNet (Inception v1, torchvision\'s with batch norm): parallel 1x1 / 3x3 / 3x3 / pool branches concatenated, two auxiliary classifiers in training (default: width 0.5, digit-sized)',
  defaultInput: [28, 28, 1],
  options: inceptionOptions,
  build: buildInception,
});
