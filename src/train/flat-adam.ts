/**
 * Adam (Kingma & Ba 2015) over one flat buffer: the same arithmetic as tfjs's AdamOptimizer,
 * element by element and in the same order of operations (so the same float32 results, bit for
 * bit), but each step runs its dozen element-wise ops once on the concatenated gradients of all
 * variables instead of once per variable.
 *
 *   m <- beta1 m + (1 - beta1) g
 *   v <- beta2 v + (1 - beta2) g^2
 *   w <- w + (-lr) (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
 *
 * Why: every tfjs op is a round trip through the backend (tens of microseconds on native
 * TensorFlow), and tfjs's Adam issues ~14 of them per variable: 140 for digitnet's 10 variables,
 * ~7.5 ms of a 38 ms step on 2 cores (2026-12-03). Here a step is 2 (flatten) + 12 + 1 (split) +
 * 2 per variable (reshape, add) ops. The moments live in two flat variables in the order of the
 * first call's names; a later call must pass the same names (the Stepper always does), except the
 * first call after loadState(), which may rename them (same count and sizes, by position).
 */
import * as tf from '@tensorflow/tfjs';

/** Arrays read back from a checkpoint, by name. */
export type SavedArrays = Readonly<Record<string, { shape: readonly number[]; data: Float32Array }>>;

/**
 * An optimiser's complete state (moments, bias-correction powers, iteration): `json` for plain
 * values, `tensors` (owned by the optimiser, read by the caller) for the rest. loadState() on a
 * fresh optimiser of the same kind continues exactly where saveState() left off.
 */
export interface OptimizerState {
  json: Record<string, unknown>;
  tensors: Record<string, tf.Tensor>;
}

export interface StepOptimizer {
  applyGradients(gradients: tf.NamedTensorMap): void;
  setLearningRate(lr: number): void;
  saveState(): OptimizerState;
  loadState(json: Record<string, unknown>, arrays: SavedArrays, prefix: string): void;
  dispose(): void;
}

/** The saved array `prefix + name`, or an error naming what the checkpoint lacks. */
export function savedArray(arrays: SavedArrays, name: string): { shape: readonly number[]; data: Float32Array } {
  const found = arrays[name];
  if (found == null) throw new Error(`the checkpoint holds no '${name}'`);
  return found;
}

/** A non-trainable variable holding a saved array. */
export function savedVariable(arrays: SavedArrays, name: string): tf.Variable {
  const { shape, data } = savedArray(arrays, name);
  return tf.tidy(() => tf.tensor(data, [...shape]).variable(false));
}

export class FlatAdam implements StepOptimizer {
  private names: string[] | null = null;
  private sizes: number[] = [];
  /** Set by loadState(): the next call may bring the same variables under other names. */
  private rebind = false;
  private firstMoment: tf.Variable | null = null;
  private secondMoment: tf.Variable | null = null;
  private readonly accBeta1: tf.Variable;
  private readonly accBeta2: tf.Variable;
  private readonly epsilon: number;

  constructor(
    public learningRate: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    epsilon: number | null = null,
  ) {
    // As tfjs: the bias-correction powers start at beta (step 1), epsilon is the backend's.
    this.accBeta1 = tf.tidy(() => tf.scalar(beta1).variable(false));
    this.accBeta2 = tf.tidy(() => tf.scalar(beta2).variable(false));
    this.epsilon = epsilon ?? tf.backend().epsilon();
  }

  applyGradients(gradients: tf.NamedTensorMap): void {
    const names = Object.keys(gradients);
    if (this.names == null) {
      this.names = names;
      this.sizes = names.map((n) => gradients[n]!.size);
      const total = this.sizes.reduce((a, b) => a + b, 0);
      this.firstMoment = tf.tidy(() => tf.zeros([total]).variable(false));
      this.secondMoment = tf.tidy(() => tf.zeros([total]).variable(false));
    } else if (this.rebind && names.length === this.names.length && names.every((n, i) => gradients[n]!.size === this.sizes[i])) {
      // A resumed run builds its model in another process, where tfjs gives the variables other
      // unique names (`conv1/kernel` vs `conv1/kernel_41` of a sweep worker's 41st model): the
      // moments are matched by position and size, as tfjs's own optimisers match their slots.
      this.names = names;
    } else if (names.length !== this.names.length || names.some((n, i) => n !== this.names![i])) {
      throw new Error(`FlatAdam: the variables changed between steps (${this.names.join(', ')} -> ${names.join(', ')})`);
    }
    this.rebind = false;
    const variables = this.names.map((name) => {
      const v = tf.engine().registeredVariables[name];
      if (v == null) throw new Error(`FlatAdam: no variable named ${name}`);
      return v;
    });
    tf.tidy(() => {
      const m = this.firstMoment!;
      const v = this.secondMoment!;
      const parts = this.names!.map((n) => tf.reshape(gradients[n]!, [-1]));
      const gradient = parts.length === 1 ? parts[0]! : tf.concat(parts, 0);
      const oneMinusAccBeta1 = tf.sub(1, this.accBeta1);
      const oneMinusAccBeta2 = tf.sub(1, this.accBeta2);
      const newFirstMoment = tf.add(tf.mul(m, this.beta1), tf.mul(gradient, 1 - this.beta1));
      const newSecondMoment = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(gradient), 1 - this.beta2));
      const biasCorrectedFirstMoment = tf.div(newFirstMoment, oneMinusAccBeta1);
      const biasCorrectedSecondMoment = tf.div(newSecondMoment, oneMinusAccBeta2);
      m.assign(newFirstMoment);
      v.assign(newSecondMoment);
      const update = tf.mul(tf.div(biasCorrectedFirstMoment, tf.add(tf.sqrt(biasCorrectedSecondMoment), this.epsilon)), -this.learningRate);
      const updates = variables.length === 1 ? [update] : tf.split(update, this.sizes, 0);
      variables.forEach((variable, i) => variable.assign(tf.add(tf.reshape(updates[i]!, variable.shape), variable)));
      this.accBeta1.assign(tf.mul(this.accBeta1, this.beta1));
      this.accBeta2.assign(tf.mul(this.accBeta2, this.beta2));
    });
  }

  setLearningRate(lr: number): void {
    this.learningRate = lr;
  }

  saveState(): OptimizerState {
    const tensors: Record<string, tf.Tensor> = { accBeta1: this.accBeta1, accBeta2: this.accBeta2 };
    if (this.firstMoment != null) Object.assign(tensors, { m: this.firstMoment, v: this.secondMoment! });
    return { json: { kind: 'flat-adam', names: this.names, sizes: this.sizes }, tensors };
  }

  loadState(json: Record<string, unknown>, arrays: SavedArrays, prefix: string): void {
    if (json['kind'] !== 'flat-adam') throw new Error(`the checkpoint's optimiser is ${String(json['kind'])}, this run's flat-adam (another backend?)`);
    tf.tidy(() => {
      this.accBeta1.assign(tf.scalar(savedArray(arrays, `${prefix}accBeta1`).data[0]!));
      this.accBeta2.assign(tf.scalar(savedArray(arrays, `${prefix}accBeta2`).data[0]!));
    });
    this.names = (json['names'] as string[] | null) ?? null;
    this.rebind = true;
    this.sizes = (json['sizes'] as number[]) ?? [];
    if (this.firstMoment != null) tf.dispose([this.firstMoment, this.secondMoment!]);
    this.firstMoment = this.names == null ? null : savedVariable(arrays, `${prefix}m`);
    this.secondMoment = this.names == null ? null : savedVariable(arrays, `${prefix}v`);
  }

  dispose(): void {
    tf.dispose([this.accBeta1, this.accBeta2]);
    if (this.firstMoment != null) tf.dispose([this.firstMoment, this.secondMoment!]);
  }
}
