/**
 * What every architecture file builds with: layers named as torchvision names its parameters,
 * each weighted layer recorded in the block it belongs to (what `freeze` counts), deterministic
 * initialiser seeds, PyTorch's symmetric padding.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { buildHead, seeder, type Backbone, type BackboneArgs, type BackboneBlock } from './backbones.js';

export const ACTIVATIONS = ['relu', 'relu6', 'sigmoid', 'tanh'] as const;
export type Activation = (typeof ACTIVATIONS)[number];
export const activationSchema = z.enum(ACTIVATIONS);

/**
 * Constant padding of height and width (`tf.layers.zeroPadding2d` pads with zeros only). Max
 * pooling pads with -Infinity, as PyTorch's MaxPool2d does: zero padding would change the result
 * wherever every value of a window is negative (after tanh, or with no activation).
 */
export class ConstantPad2D extends tf.layers.Layer {
  static readonly className = 'DalabConstantPad2D';
  private readonly padding: [[number, number], [number, number]];
  private readonly value: number;

  constructor(config: { padding: [[number, number], [number, number]]; value: number | 'min'; name?: string }) {
    super(config);
    this.padding = config.padding;
    // JSON has no -Infinity: 'min' stands for it in the saved topology.
    this.value = config.value === 'min' ? -Infinity : config.value;
  }

  override computeOutputShape(shape: tf.Shape): tf.Shape {
    const [[t, b], [l, r]] = this.padding;
    return [shape[0]!, shape[1] == null ? null : shape[1] + t + b, shape[2] == null ? null : shape[2] + l + r, shape[3]!];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return tf.pad(x, [[0, 0], ...this.padding, [0, 0]], this.value);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), padding: this.padding, value: this.value === -Infinity ? 'min' : this.value };
  }
}
tf.serialization.registerClass(ConstantPad2D);

/**
 * PyTorch's AdaptiveAvgPool2d for any input size: output cell i averages rows
 * floor(i H / out) .. ceil((i + 1) H / out) - 1 (columns alike), computed as two matrix products
 * (pooling matrices of shape [H, out] and [W, out]), so every backend has its gradient.
 */
export class AdaptiveAvgPool2D extends tf.layers.Layer {
  static readonly className = 'DalabAdaptiveAvgPool2D';
  private readonly size: number;

  constructor(config: { size: number; name?: string }) {
    super(config);
    this.size = config.size;
  }

  override computeOutputShape(shape: tf.Shape): tf.Shape {
    return [shape[0]!, this.size, this.size, shape[3]!];
  }

  /** [n, out]: column i holds 1 / |window i| on the window's rows. */
  private matrix(n: number): tf.Tensor2D {
    const values = new Float32Array(n * this.size);
    for (let i = 0; i < this.size; i++) {
      const start = Math.floor((i * n) / this.size);
      const end = Math.ceil(((i + 1) * n) / this.size);
      for (let r = start; r < end; r++) values[r * this.size + i] = 1 / (end - start);
    }
    return tf.tensor2d(values, [n, this.size]);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D;
      const [, h, w, c] = x.shape;
      const o = this.size;
      // Rows: [B, W, C, H] x [H, o] -> [B, W, C, o]; then columns: [B, o, C, W] x [W, o].
      const rows = tf.matMul(tf.reshape(tf.transpose(x, [0, 2, 3, 1]), [-1, h]), this.matrix(h));
      const t = tf.transpose(tf.reshape(rows, [-1, w, c, o]), [0, 3, 2, 1]);
      const cols = tf.matMul(tf.reshape(t, [-1, w]), this.matrix(w));
      return tf.transpose(tf.reshape(cols, [-1, o, c, o]), [0, 1, 3, 2]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), size: this.size };
  }
}
tf.serialization.registerClass(AdaptiveAvgPool2D);

/**
 * Dropout with a new mask at every training call, reproducible from its seed. tfjs's dropout layer
 * given a `seed` draws the *same* mask at every call (tf.dropout seeds a fresh generator each
 * time), so a seeded tfjs dropout is a fixed sub-network, not dropout. Here call k uses seed
 * `seed + k`. `noiseShape` entries of null take the input's size (Dropout2d: [null, 1, 1, null]).
 * A resumed run starts the count again (its masks differ from an uninterrupted run's).
 */
export class SeededDropout extends tf.layers.Layer {
  static readonly className = 'DalabSeededDropout';
  private readonly rate: number;
  private readonly seed: number;
  private readonly noiseShape: (number | null)[] | undefined;
  private calls = 0;

  constructor(config: { rate: number; seed: number; noiseShape?: (number | null)[]; name?: string }) {
    super(config);
    this.rate = config.rate;
    this.seed = config.seed;
    this.noiseShape = config.noiseShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    if (kwargs['training'] !== true || this.rate === 0) return x;
    const shape = this.noiseShape == null ? undefined : this.noiseShape.map((d, i) => d ?? x.shape[i]!);
    return tf.dropout(x, this.rate, shape, this.seed + this.calls++);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed, ...(this.noiseShape == null ? {} : { noiseShape: this.noiseShape }) };
  }
}
tf.serialization.registerClass(SeededDropout);

/** PyTorch's default for Conv2d and Linear: kaiming_uniform(a = sqrt 5) = U(+-1 / sqrt(fan_in)), variance 1 / (3 fan_in). */
export const torchDefaultInit = (seed: number) => tf.initializers.varianceScaling({ scale: 1 / 3, mode: 'fanIn', distribution: 'uniform', seed });

export type Padding = number | 'same' | 'valid';
export type Init = 'he' | 'he-in' | 'glorot' | 'torch';

export interface ConvSpec {
  filters: number;
  kernel: number | [number, number];
  stride?: number;
  /** Symmetric padding on every side (PyTorch's `padding`); default (k - 1) / 2. */
  pad?: Padding;
  bias?: boolean;
  /** he: kaiming normal, fan-out (torchvision's ResNet, VGG, MobileNet, DenseNet); he-in: fan-in; glorot: uniform; torch: PyTorch's default U(+-1/sqrt(fan_in)). */
  init?: Init;
  /** groups = channels: a depthwise convolution. */
  depthwise?: boolean;
}

/** Builds a functional tfjs graph block by block. */
export class NetBuilder {
  readonly blocks: BackboneBlock[] = [];
  private current: BackboneBlock | null = null;
  readonly next: () => number;

  constructor(
    seed: number,
    readonly activation: Activation,
  ) {
    this.next = seeder(seed);
  }

  /**
   * The finished backbone: the encoder from `input` to `features`, a fresh head (seeded after
   * every layer), the blocks built, and `rebuild` as `build` with the seed moved by 7777 x offset.
   */
  finish(name: string, input: tf.SymbolicTensor, features: tf.SymbolicTensor, diagnosticLayers: string[], args: BackboneArgs, build: (args: BackboneArgs) => Backbone): Backbone {
    return {
      name,
      encoder: tf.model({ inputs: input, outputs: features, name: 'encoder' }),
      classifier: buildHead(features.shape[1] as number, args.numClasses, this.next()),
      blocks: this.blocks,
      featureLayer: layerName(features),
      diagnosticLayers,
      rebuild: (offset = 1) => build({ ...args, seed: args.seed + 7777 * offset }),
    };
  }

  /** Starts a block: the layers built from now on belong to it. */
  block(name: string): void {
    this.current = { name, layers: [] };
    this.blocks.push(this.current);
  }

  /** Applies a layer, recording it in the current block. */
  apply(layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]): tf.SymbolicTensor {
    this.current?.layers.push(layer.name);
    return layer.apply(x) as tf.SymbolicTensor;
  }

  private initializer(init: Init): ReturnType<typeof tf.initializers.glorotUniform> {
    if (init === 'glorot') return tf.initializers.glorotUniform({ seed: this.next() });
    if (init === 'torch') return torchDefaultInit(this.next());
    return tf.initializers.varianceScaling({ scale: 2, mode: init === 'he' ? 'fanOut' : 'fanIn', distribution: 'normal', seed: this.next() });
  }

  /** Zero padding, symmetric (`pad` on every side) or as given per side. */
  pad(x: tf.SymbolicTensor, name: string, pad: number | [[number, number], [number, number]], value: number | 'min' = 0): tf.SymbolicTensor {
    const padding: [[number, number], [number, number]] = typeof pad === 'number' ? [[pad, pad], [pad, pad]] : pad;
    return this.apply(new ConstantPad2D({ name, padding, value }), x);
  }

  conv(x: tf.SymbolicTensor, name: string, spec: ConvSpec): tf.SymbolicTensor {
    const [kh, kw] = typeof spec.kernel === 'number' ? [spec.kernel, spec.kernel] : spec.kernel;
    const stride = spec.stride ?? 1;
    const pad = spec.pad ?? (kh === kw && kh % 2 === 1 ? (kh - 1) / 2 : 'same');
    let h = x;
    let padding: 'same' | 'valid' = 'valid';
    if (pad === 'same' || pad === 'valid') padding = pad;
    else if (pad > 0) {
      // Stride 1, odd kernel, (k - 1) / 2: 'same' is the same symmetric padding. Else explicit:
      // TensorFlow's 'same' pads bottom/right first, PyTorch pads every side alike.
      if (stride === 1 && kh === kw && pad === (kh - 1) / 2) padding = 'same';
      else h = this.pad(h, `${name}.pad`, pad);
    }
    const inChannels = h.shape[3] as number;
    const common = { name, kernelSize: [kh, kw] as [number, number], strides: stride, padding, useBias: spec.bias ?? false };
    const layer = spec.depthwise
      ? tf.layers.depthwiseConv2d({ ...common, depthMultiplier: spec.filters / inChannels, depthwiseInitializer: this.initializer(spec.init ?? 'he') })
      : tf.layers.conv2d({ ...common, filters: spec.filters, kernelInitializer: this.initializer(spec.init ?? 'he') });
    return this.apply(layer, h);
  }

  /** Batch norm with PyTorch's defaults: momentum 0.1 (tfjs: 0.9 of the old value), eps 1e-5. */
  norm(x: tf.SymbolicTensor, name: string, options: { eps?: number; zeroGamma?: boolean } = {}): tf.SymbolicTensor {
    return this.apply(tf.layers.batchNormalization({ name, momentum: 0.9, epsilon: options.eps ?? 1e-5, ...(options.zeroGamma ? { gammaInitializer: 'zeros' } : {}) }), x);
  }

  act(x: tf.SymbolicTensor, name: string, activation: Activation = this.activation): tf.SymbolicTensor {
    return this.apply(tf.layers.activation({ name, activation }), x);
  }

  dense(x: tf.SymbolicTensor, name: string, units: number, init: Init = 'glorot'): tf.SymbolicTensor {
    return this.apply(tf.layers.dense({ name, units, kernelInitializer: this.initializer(init) }), x);
  }

  /**
   * Max pooling with PyTorch's arguments: symmetric padding `pad` (with -Infinity), and
   * `ceil: true` for torchvision's ceil_mode (the last, partial window is kept).
   */
  maxPool(x: tf.SymbolicTensor, name: string, kernel: number, stride: number, pad = 0, ceil = false): tf.SymbolicTensor {
    const [h, w] = [x.shape[1] as number, x.shape[2] as number];
    const extra = (size: number) => {
      if (!ceil) return 0;
      const span = size + 2 * pad - kernel;
      const out = Math.ceil(span / stride) + 1;
      // PyTorch drops a last window that would start in the right padding.
      const kept = (out - 1) * stride >= size + pad ? out - 1 : out;
      return Math.max(0, (kept - 1) * stride + kernel - (size + 2 * pad));
    };
    const [eh, ew] = [extra(h), extra(w)];
    let t = x;
    if (pad > 0 || eh > 0 || ew > 0) t = this.pad(t, `${name}.pad`, [[pad, pad + eh], [pad, pad + ew]], 'min');
    return this.apply(tf.layers.maxPooling2d({ name, poolSize: kernel, strides: stride, padding: 'valid' }), t);
  }

  avgPool(x: tf.SymbolicTensor, name: string, kernel: number, stride: number): tf.SymbolicTensor {
    return this.apply(tf.layers.averagePooling2d({ name, poolSize: kernel, strides: stride, padding: 'valid' }), x);
  }

  /**
   * PyTorch's AdaptiveAvgPool2d to `size` x `size`: the identity at torchvision's 224x224 for
   * AlexNet and VGG, an average pool where the input divides evenly, else PyTorch's overlapping
   * windows (AdaptiveAvgPool2D), e.g. VGG's 2x2 maps at 64x64 replicated to 7x7.
   */
  adaptiveAvgPool(x: tf.SymbolicTensor, name: string, size: number): tf.SymbolicTensor {
    const [h, w] = [x.shape[1] as number, x.shape[2] as number];
    if (h === size && w === size) return x;
    if (h % size !== 0 || w % size !== 0) return this.apply(new AdaptiveAvgPool2D({ name, size }), x);
    return this.apply(tf.layers.averagePooling2d({ name, poolSize: [h / size, w / size], strides: [h / size, w / size], padding: 'valid' }), x);
  }

  globalAvgPool(x: tf.SymbolicTensor, name: string): tf.SymbolicTensor {
    return this.apply(tf.layers.globalAveragePooling2d({ name }), x);
  }

  /** Dropout (a new mask each training call); `spatial`: whole channels, PyTorch's Dropout2d. */
  dropout(x: tf.SymbolicTensor, name: string, rate: number, spatial = false): tf.SymbolicTensor {
    if (rate <= 0) return x;
    return this.apply(new SeededDropout({ name, rate, seed: this.next(), ...(spatial ? { noiseShape: [null, 1, 1, null] } : {}) }), x);
  }

  flatten(x: tf.SymbolicTensor, name: string): tf.SymbolicTensor {
    return this.apply(tf.layers.flatten({ name }), x);
  }

  concat(xs: tf.SymbolicTensor[], name: string): tf.SymbolicTensor {
    return this.apply(tf.layers.concatenate({ name, axis: -1 }), xs);
  }

  add(a: tf.SymbolicTensor, b: tf.SymbolicTensor, name: string): tf.SymbolicTensor {
    return this.apply(tf.layers.add({ name }), [a, b]);
  }
}

/** The name of the layer that produced a symbolic tensor. */
export const layerName = (t: tf.SymbolicTensor): string => t.sourceLayer.name;

/** torchvision's `_make_divisible`: the nearest multiple of `divisor`, never 10% below `value`. */
export function makeDivisible(value: number, divisor = 8): number {
  const rounded = Math.max(divisor, Math.floor(value + divisor / 2) - ((Math.floor(value + divisor / 2)) % divisor));
  return rounded < 0.9 * value ? rounded + divisor : rounded;
}
