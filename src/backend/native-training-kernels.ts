/**
 * Gradients of the activations as TensorFlow's own fused gradient ops on the native backend.
 *
 * tfjs writes the gradient of ReLU as `dy * step(x)`, and tfjs-node implements `step` as five
 * full-size ops (isNaN, greater, ones, fill, two selects): with the multiply, seven passes over every
 * activation map per ReLU, a quarter of a digitnet training step on 2 cores (profiled with
 * tf.profile, 2026-12-03). TensorFlow has one op for each of these gradients (`ReluGrad`,
 * `Relu6Grad`, `SigmoidGrad`, `TanhGrad`, the ones its own autodiff uses). On the `tensorflow`
 * backend the gradients below run that op; on every other backend they compute what tfjs computes.
 *
 * One difference, TensorFlow's: ReluGrad / Relu6Grad give 0 (not NaN) where the input is NaN. A NaN
 * input still makes the loss NaN, so a diverging run is seen either way.
 */
import * as tf from '@tensorflow/tfjs';

/** The part of tfjs-node's NodeJSKernelBackend this file uses. */
interface NativeBackendLike {
  binding: { TF_ATTR_TYPE: number; TF_FLOAT: number };
  executeSingleOutput(name: string, attrs: { name: string; type: number; value: unknown }[], inputs: tf.TensorInfo[]): tf.Tensor;
}

/** Kernel name -> TensorFlow op: `op(gradients, features)` for ReLU/ReLU6, `op(y, dy)` for sigmoid/tanh. */
const NATIVE_GRADS = {
  DalabReluGrad: 'ReluGrad',
  DalabRelu6Grad: 'Relu6Grad',
  DalabSigmoidGrad: 'SigmoidGrad',
  DalabTanhGrad: 'TanhGrad',
} as const;
type NativeGradKernel = keyof typeof NATIVE_GRADS;

let registered = false;

const onNative = (...ts: tf.Tensor[]) => tf.getBackend() === 'tensorflow' && ts.every((t) => t.dtype === 'float32');

/** Runs the named kernel: two float32 inputs `a`, `b` in TensorFlow's argument order. */
const runNative = (kernel: NativeGradKernel, a: tf.Tensor, b: tf.Tensor) => tf.engine().runKernel(kernel, { a, b }) as tf.Tensor;

/** Registers the kernels and replaces tfjs's activation gradients; call before training (idempotent). */
export function registerNativeTrainingGradients(): void {
  if (registered) return;
  registered = true;
  for (const [kernelName, op] of Object.entries(NATIVE_GRADS)) {
    tf.registerKernel({
      kernelName,
      backendName: 'tensorflow',
      kernelFunc: ({ inputs, backend }) => {
        const native = backend as unknown as NativeBackendLike;
        const attrs = [{ name: 'T', type: native.binding.TF_ATTR_TYPE, value: native.binding.TF_FLOAT }];
        return native.executeSingleOutput(op, attrs, [inputs['a']!, inputs['b']!]);
      },
    });
  }
  // The replacements: what tfjs-core's Relu_grad, Relu6_grad, Sigmoid_grad and Tanh_grad compute
  // elsewhere, TensorFlow's op on the native backend. `t` is the saved input x (ReLU, ReLU6) or
  // output y (sigmoid, tanh); ReluGrad/Relu6Grad take (dy, x), SigmoidGrad/TanhGrad (y, dy).
  const replacements: [string, 'input' | 'output', NativeGradKernel, (g: tf.Tensor, t: tf.Tensor) => tf.Tensor][] = [
    [tf.Relu, 'input', 'DalabReluGrad', (g, x) => tf.mul(g, tf.cast(tf.step(x), 'float32'))],
    [tf.Relu6, 'input', 'DalabRelu6Grad', (g, x) => tf.mul(g, tf.cast(tf.mul(tf.lessEqual(x, 6), tf.step(x)), 'float32'))],
    [tf.Sigmoid, 'output', 'DalabSigmoidGrad', (g, y) => tf.mul(g, tf.mul(y, tf.sub(tf.scalar(1), y)))],
    [tf.Tanh, 'output', 'DalabTanhGrad', (g, y) => tf.mul(tf.sub(tf.scalar(1), tf.square(y)), g)],
  ];
  for (const [kernelName, saves, kernel, tfjsFormula] of replacements) {
    tf.registerGradient({
      kernelName,
      ...(saves === 'input' ? { inputsToSave: ['x'] } : { outputsToSave: [true] }),
      gradFunc: (dy, saved) => {
        const [t] = saved as [tf.Tensor];
        const g = dy as tf.Tensor;
        if (!onNative(g, t)) return { x: () => tfjsFormula(g, t) };
        return { x: () => (saves === 'input' ? runNative(kernel, g, t) : runNative(kernel, t, g)) };
      },
    });
  }
}
