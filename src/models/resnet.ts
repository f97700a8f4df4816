/**
 * ResNet (He et al. 2016, "Deep Residual Learning for Image Recognition"; "Identity Mappings in
 * Deep Residual Networks" for the block orderings), as torchvision builds it at the ImageNet
 * depths and as the CIFAR networks of the paper's section 4.2 elsewhere:
 *
 *   depth 18, 34 (basic) / 50, 101, 152 (bottleneck): torchvision's resnetN: conv7x7/2-64, BN,
 *     ReLU, maxpool3x3/2, four stages of 64·2^i planes (blocks [2,2,2,2], [3,4,6,3], [3,4,6,3],
 *     [3,4,23,3], [3,8,36,3]), stride 2 on the first block of stages 2-4 (on the 3x3 convolution of
 *     a bottleneck, "v1.5"), global average pooling, a fresh head;
 *   any other depth: CIFAR style, conv3x3-16, BN, ReLU, three stages of n blocks with 16, 32, 64
 *     planes, strides 1, 2, 2: depth = 6n + 2 (basic) or 9n + 2 (bottleneck).
 *
 * A block computes H(x) = F(x) + x; the skip is the identity, or a 1x1 projection (with batch
 * norm) when the shape changes (torchvision's downsample). `skip: false` removes every skip: the
 * plain twin of the same depth. `order` (figure 4 of "Identity Mappings"), for a basic block:
 *   post            x -> conv-BN-act-conv-BN -> (+x) -> act          (the original, a)
 *   bn-after-add    x -> conv-BN-act-conv -> (+x) -> BN -> act       (b)
 *   relu-before-add x -> conv-BN-act-conv-BN-act -> (+x)             (c)
 *   relu-only-pre   x -> act-conv-BN-act-conv-BN -> (+x)             (d)
 *   pre             x -> BN-act-conv-BN-act-conv -> (+x)             (e, full pre-activation)
 * (bottleneck blocks the same with three convolutions); the pre-activation orders end with BN-act
 * before pooling. `norm: none` drops every batch norm. `width` scales every stage's planes
 * (wide ResNet: 2, 4, ...; thin digit nets: 0.25). Convolutions have no bias, as in torchvision
 * (batch norm's shift plays its part); with `norm: none` they get one.
 *
 * Strided convolutions pad explicitly and symmetrically ((k - 1) / 2 on every side, as PyTorch)
 * rather than with TensorFlow's asymmetric 'same', so imported weights give PyTorch's outputs.
 *
 * Layer names follow torchvision's parameter names (`conv1`, `bn1`, `layer1.0.conv1`,
 * `layer1.0.downsample.0`, ...); blocks are `stem`, `layer1.0`, `layer1.1`, ... (the pre-activation
 * orders' last BN-act, `final.bn`, belongs to the last block).
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { buildHead, defineBackbone, type Backbone, type BackboneArgs } from './backbones.js';
import { NetBuilder, activationSchema, layerName } from './builder.js';

export { ACTIVATIONS, activationSchema, type Activation } from './builder.js';

const ORDERS = ['post', 'bn-after-add', 'relu-before-add', 'relu-only-pre', 'pre'] as const;

/** The ImageNet depths: blocks per stage and the block type torchvision uses. */
const IMAGENET: Record<number, { block: 'basic' | 'bottleneck'; stages: number[] }> = {
  18: { block: 'basic', stages: [2, 2, 2, 2] },
  34: { block: 'basic', stages: [3, 4, 6, 3] },
  50: { block: 'bottleneck', stages: [3, 4, 6, 3] },
  101: { block: 'bottleneck', stages: [3, 4, 23, 3] },
  152: { block: 'bottleneck', stages: [3, 8, 36, 3] },
};

export const resnetOptions = z
  .object({
    /** 18, 34, 50, 101, 152: torchvision's ImageNet networks; else CIFAR style, 6n+2 (basic) or 9n+2 (bottleneck). */
    depth: z.number().int().positive().default(20),
    /** basic (two 3x3) or bottleneck (1x1, 3x3, 1x1 x4); the ImageNet depths fix it unless given. */
    block: z.enum(['basic', 'bottleneck']).optional(),
    /**
     * Multiplies every stage's planes. The digit default 0.5 (8, 16, 32 planes; ~8 M multiply-adds
     * per 28x28 image, a fifth of the CIFAR ResNet-20's 40 M): thinner ones (0.25, 0.375) learned
     * too slowly in the first 30 steps (test/models/resnet.test.ts).
     */
    width: z.number().positive().default(0.5),
    /** false: the plain network of the same depth (no skip connection anywhere). */
    skip: z.boolean().default(true),
    norm: z.enum(['batch', 'none']).default('batch'),
    activation: activationSchema.default('relu'),
    order: z.enum(ORDERS).default('post'),
    /**
     * PyramidNet (Han et al. 2017): the planes grow by ALPHA in total, linearly block by block
     * (block k of N: base + ALPHA k / N, times width) instead of doubling per stage; skips stay
     * parameter-free: average-pooled when the block downsamples, zero-padded in the new channels.
     */
    pyramidal: z.number().positive().optional(),
    /** Start each residual branch's last batch norm at zero (Goyal et al. 2017; torchvision's zero_init_residual). */
    zeroInitResidual: z.boolean().default(false),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (IMAGENET[o.depth] != null) return;
    const block = o.block ?? 'basic';
    const per = block === 'basic' ? 6 : 9;
    if ((o.depth - 2) % per !== 0 || o.depth < per + 2) {
      ctx.addIssue({ code: 'custom', path: ['depth'], message: `${block} blocks need depth ${per}n+2 (${per + 2}, ${2 * per + 2}, ${3 * per + 2}, ...) or one of 18, 34, 50, 101, 152, got ${o.depth}` });
    }
  });
export type ResnetOptions = z.infer<typeof resnetOptions>;

/** Pads the channel axis with zeros up to `channels` (PyramidNet's parameter-free skip). */
export class ChannelZeroPad extends tf.layers.Layer {
  static readonly className = 'DalabChannelZeroPad';
  private readonly channels: number;

  constructor(config: { channels: number; name?: string }) {
    super(config);
    this.channels = config.channels;
  }

  override computeOutputShape(shape: tf.Shape): tf.Shape {
    return [...shape.slice(0, -1), this.channels];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    const extra = this.channels - x.shape[x.shape.length - 1]!;
    return extra <= 0 ? x : tf.pad(x, [...x.shape.slice(0, -1).map(() => [0, 0] as [number, number]), [0, extra]]);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), channels: this.channels };
  }
}
tf.serialization.registerClass(ChannelZeroPad);

/** NetBuilder with ResNet's conventions: He initialisation, a bias only without batch norm. */
class Builder extends NetBuilder {
  constructor(
    seed: number,
    private readonly options: ResnetOptions,
  ) {
    super(seed, options.activation);
  }

  rconv(x: tf.SymbolicTensor, name: string, filters: number, kernel: number, stride: number): tf.SymbolicTensor {
    return this.conv(x, name, { filters, kernel, stride, bias: this.options.norm === 'none', init: 'he' });
  }

  /** Batch norm, or nothing with `norm: none`. */
  rnorm(x: tf.SymbolicTensor, name: string, zeroGamma = false): tf.SymbolicTensor {
    return this.options.norm === 'none' ? x : this.norm(x, name, { zeroGamma });
  }
}

/**
 * One residual block: the residual branch F (convolutions in the order's arrangement of BN and
 * activation), the skip (identity, or 1x1 projection + BN when the shape changes), their sum.
 */
function residualBlock(b: Builder, x: tf.SymbolicTensor, prefix: string, planes: number, stride: number, bottleneck: boolean, options: ResnetOptions): tf.SymbolicTensor {
  const out = bottleneck ? planes * 4 : planes;
  const inChannels = x.shape[3] as number;
  const convs: [number, number, number][] = bottleneck
    ? [[planes, 1, 1], [planes, 3, stride], [out, 1, 1]]
    : [[planes, 3, stride], [out, 3, 1]];
  const { order } = options;
  const pre = order === 'pre' || order === 'relu-only-pre';
  let h = x;
  convs.forEach(([filters, kernel, s], i) => {
    const k = i + 1;
    const last = i === convs.length - 1;
    if (order === 'pre') h = b.act(b.rnorm(h, `${prefix}.bn${k}`), `${prefix}.act${k}`);
    if (order === 'relu-only-pre') h = b.act(h, `${prefix}.act${k}`);
    h = b.rconv(h, `${prefix}.conv${k}`, filters, kernel, s);
    // zeroInitResidual: the branch's last batch norm starts at 0, so each block starts as the identity.
    if (order === 'relu-only-pre' || order === 'post' || order === 'relu-before-add' || (order === 'bn-after-add' && !last)) h = b.rnorm(h, `${prefix}.bn${k}`, last && options.skip && options.zeroInitResidual);
    if (!pre && !last) h = b.act(h, `${prefix}.act${k}`);
    if (order === 'relu-before-add' && last) h = b.act(h, `${prefix}.act${k}`);
  });
  if (options.skip) {
    let shortcut = x;
    if (options.pyramidal != null) {
      if (stride !== 1) shortcut = b.avgPool(shortcut, `${prefix}.downsample.pool`, stride, stride);
      if (inChannels !== out) shortcut = b.apply(new ChannelZeroPad({ name: `${prefix}.downsample.pad`, channels: out }), shortcut);
    } else if (stride !== 1 || inChannels !== out) {
      shortcut = b.rconv(x, `${prefix}.downsample.0`, out, 1, stride);
      if (!pre) shortcut = b.rnorm(shortcut, `${prefix}.downsample.1`);
    }
    h = b.add(h, shortcut, `${prefix}.add`);
  }
  const n = convs.length;
  if (order === 'bn-after-add') h = b.act(b.rnorm(h, `${prefix}.bn${n}`), `${prefix}.act${n}`);
  if (order === 'post') h = b.act(h, `${prefix}.act${n}`);
  return h;
}

export function buildResnet(args: BackboneArgs, options: ResnetOptions): Backbone {
  const { input, numClasses, seed } = args;
  const imagenet = IMAGENET[options.depth];
  const bottleneck = (options.block ?? imagenet?.block ?? 'basic') === 'bottleneck';
  const stages = imagenet != null ? imagenet.stages : [1, 2, 3].map(() => (options.depth - 2) / (bottleneck ? 9 : 6));
  const basePlanes = imagenet != null ? 64 : 16;
  const planesOf = (stage: number) => Math.max(1, Math.round(basePlanes * 2 ** stage * options.width));
  const total = stages.reduce((n, c) => n + c, 0);
  let blockIndex = 0;
  // PyramidNet: block k of N has base + alpha k / N planes; else each stage doubles them.
  const planesAt = (stage: number) => (options.pyramidal == null ? planesOf(stage) : Math.max(1, Math.round((basePlanes + (options.pyramidal * blockIndex) / total) * options.width)));
  const b = new Builder(seed, options);

  const x = tf.input({ shape: input, name: 'image' });
  b.block('stem');
  let h = b.rconv(x, 'conv1', planesOf(0), imagenet != null ? 7 : 3, imagenet != null ? 2 : 1);
  if (options.order !== 'pre' && options.order !== 'relu-only-pre') h = b.act(b.rnorm(h, 'bn1'), 'stem.act');
  if (imagenet != null) h = b.maxPool(h, 'maxpool', 3, 2, 1);
  // The diagnostic layers: the stem's output and each stage's, then the pooled features.
  const diagnostic = [layerName(h)];
  stages.forEach((count, stage) => {
    for (let i = 0; i < count; i++) {
      const prefix = `layer${stage + 1}.${i}`;
      b.block(prefix);
      blockIndex++;
      h = residualBlock(b, h, prefix, planesAt(stage), i === 0 && stage > 0 ? 2 : 1, bottleneck, options);
    }
    diagnostic.push(layerName(h));
  });
  if (options.order === 'pre' || options.order === 'relu-only-pre') {
    // The last BN-act belongs to the last residual block (batch norm never counts on its own).
    h = b.act(b.rnorm(h, 'final.bn'), 'final.act');
  }
  const features = b.globalAvgPool(h, 'avgpool');
  diagnostic.push(layerName(features));
  const encoder = tf.model({ inputs: x, outputs: features, name: 'encoder' });
  const featureSize = features.shape[1] as number;
  const classifier = buildHead(featureSize, numClasses, seed * 31 + 17);
  return {
    name: 'resnet',
    encoder,
    classifier,
    blocks: b.blocks,
    featureLayer: 'avgpool',
    diagnosticLayers: diagnostic,
    rebuild: (offset = 1) => buildResnet({ ...args, seed: seed + 7777 * offset }, options),
  };
}

export const resnet = defineBackbone({
  name: 'resnet',
  description: 'ResNet: basic/bottleneck residual blocks, identity or 1x1 projection skips, batch norm, the orderings of He et al. 2016 (default: CIFAR-style depth 20 at width 0.5)',
  defaultInput: [28, 28, 1],
  options: resnetOptions,
  build: buildResnet,
});
