/**
 * DenseNet (Huang et al. 2017, "Densely Connected Convolutional Networks"): inside a dense block
 * each layer sees the concatenation of all earlier feature maps and adds `growth` new ones;
 * transition layers (BN, act, 1x1 conv to `compression` x the channels, 2x2 average pool) join
 * the blocks.
 *   block: basic       BN-act-conv3x3(growth)
 *   block: bottleneck  BN-act-conv1x1(4 x growth)-BN-act-conv3x3(growth)   ("B"; with compression < 1 "BC")
 *   depth 121, 161, 169, 201: torchvision's ImageNet networks (conv7x7/2, maxpool 3/2, four dense
 *     blocks of (6, 12, 24, 16) / (6, 12, 36, 24) / (6, 12, 32, 32) / (6, 12, 48, 32) bottleneck
 *     layers, growth 32 (48 for 161), final BN-ReLU, global average pool);
 *   any other depth: the CIFAR networks of the paper's section 3: conv3x3 stem with 2 x growth
 *     channels (16 without bottleneck), three dense blocks of (depth - 4) / 3 basic or
 *     (depth - 4) / 6 bottleneck layers.
 * The digit default, depth 13 with basic layers at growth 24 (3 layers per block, compression
 * 0.5) and a stride-2 stem, costs about 9 M multiply-adds per 28x28 image. Thin, deep defaults
 * (DenseNet-BC 40 at growth 8, 6 M) learn too slowly in their first steps: with Adam 1e-3 and
 * batch 16 the loss of steps 21-30 was 0.87x that of steps 1-10 (torchvision's DenseNet of the
 * same configuration: 0.95x); this one, 0.68x. `width` widens the stem and the bottleneck
 * (wide DenseNet); `pyramidal: true` lets the growth rate rise block by block (k, 2k, 4k, ...:
 * each later block sees coarser maps and adds more of them, in the spirit of PyramidNet).
 * Layer names follow torchvision: `features.conv0`, `features.denseblock1.denselayer1.conv1`,
 * `features.transition1.conv`, `features.norm5`; blocks are `stem`, each dense layer
 * (`denseblock1.denselayer1`, ...), and each transition (the final `features.norm5` belongs to the last
 * dense layer).
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { defineBackbone, type Backbone, type BackboneArgs } from './backbones.js';
import { NetBuilder, activationSchema, layerName } from './builder.js';

const IMAGENET: Record<number, { growth: number; blocks: number[]; init: number }> = {
  121: { growth: 32, blocks: [6, 12, 24, 16], init: 64 },
  161: { growth: 48, blocks: [6, 12, 36, 24], init: 96 },
  169: { growth: 32, blocks: [6, 12, 32, 32], init: 64 },
  201: { growth: 32, blocks: [6, 12, 48, 32], init: 64 },
};

export const densenetOptions = z
  .object({
    depth: z.number().int().positive().default(13),
    growth: z.number().int().positive().optional(),
    block: z.enum(['basic', 'bottleneck']).default('basic'),
    /** Channels kept by a transition (DenseNet-C: 0.5; 1 keeps all). */
    compression: z.number().gt(0).max(1).default(0.5),
    /** Multiplies the stem's channels and the bottleneck's 4 x growth (wide DenseNet). */
    width: z.number().positive().default(1),
    /** The growth rate doubles from one dense block to the next. */
    pyramidal: z.boolean().default(false),
    /** Stride of the stem's convolution at the CIFAR depths (2 keeps the digit default small). */
    stemStride: z.union([z.literal(1), z.literal(2)]).default(2),
    activation: activationSchema.default('relu'),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (IMAGENET[o.depth] != null) return;
    const per = o.block === 'basic' ? 3 : 6;
    if ((o.depth - 4) % per !== 0 || o.depth < per + 4) {
      ctx.addIssue({ code: 'custom', path: ['depth'], message: `${o.block} layers need depth ${per}n+4 (${per + 4}, ${2 * per + 4}, ...) or one of 121, 161, 169, 201, got ${o.depth}` });
    }
  });
export type DensenetOptions = z.infer<typeof densenetOptions>;

export function buildDensenet(args: BackboneArgs, options: DensenetOptions): Backbone {
  const { input, seed } = args;
  const imagenet = IMAGENET[options.depth];
  const bottleneck = imagenet != null || options.block === 'bottleneck';
  const growth0 = options.growth ?? imagenet?.growth ?? 24;
  const layersPerBlock = imagenet != null ? imagenet.blocks : [1, 2, 3].map(() => (options.depth - 4) / (bottleneck ? 6 : 3));
  const b = new NetBuilder(seed, options.activation);
  const x = tf.input({ shape: input, name: 'image' });

  b.block('stem');
  let h: tf.SymbolicTensor;
  if (imagenet != null) {
    h = b.conv(x, 'features.conv0', { filters: Math.round(imagenet.init * options.width), kernel: 7, stride: 2, pad: 3 });
    h = b.act(b.norm(h, 'features.norm0'), 'features.relu0');
    h = b.maxPool(h, 'features.pool0', 3, 2, 1);
  } else {
    // The CIFAR stem has no batch norm of its own: the first dense layer starts with BN-act.
    h = b.conv(x, 'features.conv0', { filters: Math.round((bottleneck ? 2 * growth0 : 16) * options.width), kernel: 3, stride: options.stemStride });
  }
  const diagnostic = [layerName(h)];
  layersPerBlock.forEach((count, i) => {
    const growth = options.pyramidal ? growth0 * 2 ** i : growth0;
    const name = `denseblock${i + 1}`;
    for (let j = 1; j <= count; j++) {
      const prefix = `features.${name}.denselayer${j}`;
      b.block(`${name}.denselayer${j}`);
      let y = h;
      if (bottleneck) {
        y = b.act(b.norm(y, `${prefix}.norm1`), `${prefix}.relu1`);
        y = b.conv(y, `${prefix}.conv1`, { filters: Math.round(4 * growth * options.width), kernel: 1 });
      }
      const n = bottleneck ? 2 : 1;
      y = b.act(b.norm(y, `${prefix}.norm${n}`), `${prefix}.relu${n}`);
      y = b.conv(y, `${prefix}.conv${n}`, { filters: growth, kernel: 3 });
      h = b.concat([h, y], `${prefix}.concat`);
    }
    diagnostic.push(layerName(h));
    if (i < layersPerBlock.length - 1) {
      const prefix = `features.transition${i + 1}`;
      b.block(`transition${i + 1}`);
      h = b.act(b.norm(h, `${prefix}.norm`), `${prefix}.relu`);
      h = b.conv(h, `${prefix}.conv`, { filters: Math.floor((h.shape[3] as number) * options.compression), kernel: 1 });
      h = b.avgPool(h, `${prefix}.pool`, 2, 2);
    }
  });
  // The final BN-act belongs to the last dense layer's block (batch norm never counts on its own).
  h = b.act(b.norm(h, 'features.norm5'), 'features.relu5');
  const features = b.globalAvgPool(h, 'avgpool');
  diagnostic.push(layerName(features));
  return b.finish('densenet', x, features, diagnostic, args, (a) => buildDensenet(a, options));
}

export const densenet = defineBackbone({
  name: 'densenet',
  description: 'DenseNet: dense blocks (each layer sees every earlier feature map), basic or bottleneck layers, transitions with compression (default digit-sized: depth 13, basic layers, growth 24)',
  defaultInput: [28, 28, 1],
  options: densenetOptions,
  build: buildDensenet,
});
