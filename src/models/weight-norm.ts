/**
 * A dense layer with weight normalisation (Salimans & Kingma 2016), as PyTorch's
 * `weight_norm(nn.Linear(...))` that SHOT's head uses: each output unit's weight vector is
 * w_j = g_j v_j / ||v_j||, with the direction v [in, out] and the scale g [out] trained; g starts at
 * ||v_j|| (so w starts as v, as in PyTorch). Registered for serialisation: a checkpoint holding it
 * loads wherever this module was imported (models/pretrained.ts imports it).
 */
import * as tf from '@tensorflow/tfjs';

export interface WeightNormDenseArgs {
  units: number;
  name?: string;
  seed?: number;
}

export class WeightNormDense extends tf.layers.Layer {
  static readonly className = 'WeightNormDense';
  private readonly units: number;
  private readonly seed: number | undefined;
  private direction!: tf.LayerVariable;
  private scale!: tf.LayerVariable;
  private bias!: tf.LayerVariable;

  constructor(args: WeightNormDenseArgs) {
    super(args.name != null ? { name: args.name } : {});
    this.units = args.units;
    this.seed = args.seed;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const inputs = shape[shape.length - 1]!;
    this.direction = this.addWeight('kernel_v', [inputs, this.units], 'float32', tf.initializers.glorotUniform(this.seed != null ? { seed: this.seed } : {}));
    this.scale = this.addWeight('kernel_g', [this.units], 'float32', tf.initializers.ones());
    this.bias = this.addWeight('bias', [this.units], 'float32', tf.initializers.zeros());
    // g = ||v_j||: the layer starts as a plain dense layer with weights v.
    this.scale.write(tf.tidy(() => tf.norm(this.direction.read(), 'euclidean', 0)));
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const v = this.direction.read();
      const w = tf.mul(v, tf.div(this.scale.read(), tf.norm(v, 'euclidean', 0)));
      return tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), this.bias.read());
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [...shape.slice(0, -1), this.units];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units, ...(this.seed != null ? { seed: this.seed } : {}) };
  }
}
tf.serialization.registerClass(WeightNormDense);
