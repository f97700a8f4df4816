/**
 * Training kernels the wasm backend of tfjs does not ship.
 *
 * `Conv2DBackpropFilter` (the gradient of a convolution with respect to its filter) is missing
 * from @tensorflow/tfjs-backend-wasm 4.x, so a convnet cannot be trained there out of the box.
 * We provide it as im2col + one matrix multiply: the patches are gathered in JS straight into the
 * wasm heap (a memory-bound copy), and the product runs in the backend's own `BatchMatMul`
 * kernel (XNNPACK, SIMD), which is where nearly all of the arithmetic is.
 *
 * `DepthwiseConv2dNativeBackpropFilter` and `...BackpropInput` (MobileNet's depthwise convolutions)
 * are missing too: direct loops over the output (a depthwise convolution does KH*KW multiply-adds
 * per output value, too few for a matrix multiply to pay for its im2col copy).
 *
 * `Conv2DBackpropInput` exists there but is a direct loop about 5x slower than a forward convolution;
 * we replace it with one (see conv2DBackpropInputWasm).
 *
 *   dW[kh, kw, ci, co] = sum_{n, oh, ow} x[n, oh*sh + kh - padTop, ow*sw + kw - padLeft, ci] * dy[n, oh, ow, co]
 *                      = (P^T . DY)  with P: [N*OH*OW, KH*KW*CI] (patches), DY: [N*OH*OW, CO]
 */
import * as tf from '@tensorflow/tfjs';

/** The parts of tfjs-backend-wasm's BackendWasm that this kernel uses. */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
  disposeData(dataId: object, force?: boolean): boolean;
}

interface BackpropFilterAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/**
 * Fills `patchesT` ([KH*KW*CI, N*OH*OW], row-major): the transpose of im2col's matrix, written one
 * output row at a time (sequential writes; the reads of x stay within cache for digit-sized inputs).
 */
export function im2colTransposed(x: Float32Array, patchesT: Float32Array, info: tf.backend_util.Conv2DInfo): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = info;
  const columns = batchSize * outHeight * outWidth;
  const xRowStride = inWidth * inChannels;
  const xBatchStride = inHeight * xRowStride;
  let k = 0;
  for (let kh = 0; kh < filterHeight; kh++) {
    for (let kw = 0; kw < filterWidth; kw++) {
      for (let ci = 0; ci < inChannels; ci++, k++) {
        let o = k * columns;
        for (let n = 0; n < batchSize; n++) {
          const xBatch = n * xBatchStride + ci;
          for (let oh = 0; oh < outHeight; oh++) {
            const ih = oh * strideHeight - padInfo.top + kh;
            if (ih < 0 || ih >= inHeight) {
              patchesT.fill(0, o, o + outWidth);
              o += outWidth;
              continue;
            }
            const xRow = xBatch + ih * xRowStride;
            // Output columns whose input column iw = ow * stride - left + kw lies inside the image:
            // [first, last); zeros on either side (padding).
            const iw0 = kw - padInfo.left;
            const first = iw0 >= 0 ? 0 : Math.min(outWidth, Math.ceil(-iw0 / strideWidth));
            const last = Math.max(first, Math.min(outWidth, Math.ceil((inWidth - iw0) / strideWidth)));
            for (let ow = 0; ow < first; ow++) patchesT[o++] = 0;
            const step = strideWidth * inChannels;
            let src = xRow + (iw0 + first * strideWidth) * inChannels;
            for (let ow = first; ow < last; ow++, src += step) patchesT[o++] = x[src]!;
            for (let ow = last; ow < outWidth; ow++) patchesT[o++] = 0;
          }
        }
      }
    }
  }
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap };

/** Calls another kernel of the wasm backend directly (as its own kernels compose each other). */
function wasmKernel(name: string, args: KernelArgs): tf.TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (kernel == null) throw new Error(`the wasm backend has no ${name} kernel`);
  return kernel.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
}

function conv2DBackpropFilterWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as unknown as WasmBackendLike;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as BackpropFilterAttrs;
  if (attrs.dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter on wasm supports NHWC only');
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const rows = info.batchSize * info.outHeight * info.outWidth;
  const rowLength = info.filterHeight * info.filterWidth * info.inChannels;
  // dW [K, CO] = P^T [K, M] . DY [M, CO], with P^T built directly: the backend's matmul is ~10x
  // slower with a transposed operand, and its transpose kernel is slow too.
  const patchesT = backend.makeOutput([1, rowLength, rows], 'float32');
  im2colTransposed(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(patchesT), info);
  const b = args.backend;
  const dy3d = wasmKernel(tf.Reshape, { inputs: { x: dy }, backend: b, attrs: { shape: [1, rows, info.outChannels] } });
  const product = wasmKernel(tf.BatchMatMul, { inputs: { a: patchesT, b: dy3d }, backend: b, attrs: { transposeA: false, transposeB: false } });
  backend.disposeData(patchesT.dataId);
  backend.disposeData(dy3d.dataId);
  // [1, KH*KW*CI, CO] is laid out exactly as [KH, KW, CI, CO].
  product.shape = [...attrs.filterShape];
  return product;
}

interface BackpropInputAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

/**
 * dx of a convolution as a forward convolution (which the wasm backend runs through XNNPACK, about
 * 5x faster than its own direct Conv2DBackpropInput):
 *   dx = conv2d(dilate(dy, stride) zero-padded by (KH-1-padTop, KW-1-padLeft, ...), rot180(W) with CI/CO swapped, stride 1)
 */
function conv2DBackpropInputWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as unknown as WasmBackendLike;
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as BackpropInputAttrs;
  if (attrs.dataFormat === 'NCHW') throw new Error('Conv2DBackpropInput on wasm supports NHWC only');
  const info = tf.backend_util.computeConv2DInfo(attrs.inputShape, filter.shape as [number, number, number, number], attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, padInfo } = info;

  // Flipped, channel-swapped filter [KH, KW, CO, CI].
  const w = backend.typedArrayFromHeap(filter);
  const flipped = backend.makeOutput([kh, kw, outChannels, inChannels], 'float32');
  const f = backend.typedArrayFromHeap(flipped);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const src = ((kh - 1 - i) * kw + (kw - 1 - j)) * inChannels * outChannels;
      const dst = (i * kw + j) * outChannels * inChannels;
      for (let ci = 0; ci < inChannels; ci++) {
        for (let co = 0; co < outChannels; co++) f[dst + co * inChannels + ci] = w[src + ci * outChannels + co]!;
      }
    }
  }

  const top = kh - 1 - padInfo.top;
  const left = kw - 1 - padInfo.left;
  const bottom = inHeight + kh - 1 - top - ((outHeight - 1) * sh + 1);
  const right = inWidth + kw - 1 - left - ((outWidth - 1) * sw + 1);
  const b = args.backend;
  let input: tf.TensorInfo = dy;
  let pad: tf.backend_util.ExplicitPadding = [[0, 0], [top, bottom], [left, right], [0, 0]];
  let temporary: tf.TensorInfo | null = null;
  if (sh > 1 || sw > 1 || top < 0 || left < 0 || bottom < 0 || right < 0) {
    // Insert stride-1 zeros between dy's pixels and pad, in one copy.
    const ph = inHeight + kh - 1;
    const pw = inWidth + kw - 1;
    temporary = backend.makeOutput([batchSize, ph, pw, outChannels], 'float32');
    const dst = backend.typedArrayFromHeap(temporary);
    dst.fill(0);
    const src = backend.typedArrayFromHeap(dy);
    for (let n = 0; n < batchSize; n++) {
      for (let i = 0; i < outHeight; i++) {
        const y = top + i * sh;
        if (y < 0 || y >= ph) continue;
        for (let j = 0; j < outWidth; j++) {
          const x = left + j * sw;
          if (x < 0 || x >= pw) continue;
          const s = ((n * outHeight + i) * outWidth + j) * outChannels;
          dst.set(src.subarray(s, s + outChannels), ((n * ph + y) * pw + x) * outChannels);
        }
      }
    }
    input = temporary;
    pad = [[0, 0], [0, 0], [0, 0], [0, 0]];
  }
  const dx = wasmKernel(tf.Conv2D, {
    inputs: { x: input, filter: flipped },
    backend: b,
    attrs: { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined } as unknown as tf.NamedAttrMap,
  });
  backend.disposeData(flipped.dataId);
  if (temporary != null) backend.disposeData(temporary.dataId);
  return dx;
}

interface PoolGradAttrs {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * MaxPoolGrad: routes each output gradient to the (first) maximum of its window. One pass over the
 * windows in NHWC order, about 4x faster than the backend's own kernel for the pools of digit nets.
 */
function maxPoolGradWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as unknown as WasmBackendLike;
  const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const attrs = args.attrs as unknown as PoolGradAttrs;
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = info;
  const x = backend.typedArrayFromHeap(input);
  const g = backend.typedArrayFromHeap(dy);
  const out = backend.makeOutput([...input.shape], 'float32');
  const dx = backend.typedArrayFromHeap(out);
  if (filterHeight === 2 && filterWidth === 2 && strideHeight === 2 && strideWidth === 2 && padInfo.top === 0 && padInfo.left === 0 && inHeight === 2 * outHeight && inWidth === 2 * outWidth) {
    maxPool2x2Grad(x, g, dx, batchSize, outHeight, outWidth, c);
    return out;
  }
  dx.fill(0);
  const best = new Float32Array(c);
  const where = new Int32Array(c);
  let o = 0;
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const h0 = Math.max(0, oh * strideHeight - padInfo.top);
      const h1 = Math.min(inHeight, oh * strideHeight - padInfo.top + filterHeight);
      for (let ow = 0; ow < outWidth; ow++) {
        const w0 = Math.max(0, ow * strideWidth - padInfo.left);
        const w1 = Math.min(inWidth, ow * strideWidth - padInfo.left + filterWidth);
        best.fill(-Infinity);
        where.fill(-1);
        for (let ih = h0; ih < h1; ih++) {
          for (let iw = w0; iw < w1; iw++) {
            const base = ((n * inHeight + ih) * inWidth + iw) * c;
            for (let k = 0; k < c; k++) {
              const v = x[base + k]!;
              if (v > best[k]!) {
                best[k] = v;
                where[k] = base + k;
              }
            }
          }
        }
        for (let k = 0; k < c; k++) if (where[k]! >= 0) dx[where[k]!] += g[o + k]!;
        o += c;
      }
    }
  }
  return out;
}

/**
 * The common 2x2 / stride 2 pool over even sizes: windows tile the input, so every input value is
 * written once (its window's gradient or 0), with the general kernel's rule: the first maximum in
 * row-major order wins, a window with no value above -Infinity (or only NaN) passes no gradient.
 */
function maxPool2x2Grad(x: Float32Array, g: Float32Array, dx: Float32Array, batchSize: number, outHeight: number, outWidth: number, c: number): void {
  const row = 2 * outWidth * c;
  let o = 0;
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      let p00 = (n * 2 * outHeight + 2 * oh) * row;
      for (let ow = 0; ow < outWidth; ow++, p00 += 2 * c, o += c) {
        const p01 = p00 + c;
        const p10 = p00 + row;
        const p11 = p10 + c;
        for (let k = 0; k < c; k++) {
          const a = x[p00 + k]!;
          const b = x[p01 + k]!;
          const d = x[p10 + k]!;
          const e = x[p11 + k]!;
          let best = -Infinity;
          let at = -1;
          if (a > best) {
            best = a;
            at = 0;
          }
          if (b > best) {
            best = b;
            at = 1;
          }
          if (d > best) {
            best = d;
            at = 2;
          }
          if (e > best) at = 3;
          const v = g[o + k]!;
          dx[p00 + k] = at === 0 ? v : 0;
          dx[p01 + k] = at === 1 ? v : 0;
          dx[p10 + k] = at === 2 ? v : 0;
          dx[p11 + k] = at === 3 ? v : 0;
        }
      }
    }
  }
}

interface DepthwiseAttrs {
  strides: [number, number] | number;
  dilations: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape?: [number, number, number, number];
  inputShape?: [number, number, number, number];
}

function depthwiseInfo(xShape: number[], filterShape: number[], attrs: DepthwiseAttrs, kernel: string): tf.backend_util.Conv2DInfo {
  const d = attrs.dilations;
  if ((typeof d === 'number' ? d : Math.max(...d)) > 1) throw new Error(`${kernel} on wasm supports dilation 1 only`);
  return tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number], filterShape as [number, number, number, number], attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, true, 'channelsLast');
}

/**
 * The gradients of y[n, oh, ow, c*M + m] = sum_{kh, kw} x[n, oh*sh + kh - top, ow*sw + kw - left, c] * W[kh, kw, c, m]
 * (M, the depth multiplier): one pass over the outputs for either, dW or dx.
 */
function depthwiseBackprop(info: tf.backend_util.Conv2DInfo, x: Float32Array | null, w: Float32Array | null, dy: Float32Array, out: Float32Array): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = info;
  const m = outChannels / inChannels;
  out.fill(0);
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        const g = ((n * outHeight + oh) * outWidth + ow) * outChannels;
        for (let kh = 0; kh < filterHeight; kh++) {
          const ih = oh * strideHeight - padInfo.top + kh;
          if (ih < 0 || ih >= inHeight) continue;
          for (let kw = 0; kw < filterWidth; kw++) {
            const iw = ow * strideWidth - padInfo.left + kw;
            if (iw < 0 || iw >= inWidth) continue;
            const xi = ((n * inHeight + ih) * inWidth + iw) * inChannels;
            const wi = (kh * filterWidth + kw) * outChannels;
            if (x != null) {
              // dW[kh, kw, c, m] += x[.., c] * dy[.., c*M + m]
              for (let c = 0; c < inChannels; c++) {
                const v = x[xi + c]!;
                for (let j = 0; j < m; j++) out[wi + c * m + j] += v * dy[g + c * m + j]!;
              }
            } else {
              // dx[.., c] += W[kh, kw, c, m] * dy[.., c*M + m]
              for (let c = 0; c < inChannels; c++) {
                let sum = 0;
                for (let j = 0; j < m; j++) sum += w![wi + c * m + j]! * dy[g + c * m + j]!;
                out[xi + c] += sum;
              }
            }
          }
        }
      }
    }
  }
}

function depthwiseBackpropFilterWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as unknown as WasmBackendLike;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as DepthwiseAttrs;
  const info = depthwiseInfo(x.shape, attrs.filterShape!, attrs, tf.DepthwiseConv2dNativeBackpropFilter);
  const out = backend.makeOutput([...attrs.filterShape!], 'float32');
  depthwiseBackprop(info, backend.typedArrayFromHeap(x), null, backend.typedArrayFromHeap(dy), backend.typedArrayFromHeap(out));
  return out;
}

function depthwiseBackpropInputWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as unknown as WasmBackendLike;
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as DepthwiseAttrs;
  const info = depthwiseInfo(attrs.inputShape!, filter.shape, attrs, tf.DepthwiseConv2dNativeBackpropInput);
  const out = backend.makeOutput([...attrs.inputShape!], 'float32');
  depthwiseBackprop(info, null, backend.typedArrayFromHeap(filter), backend.typedArrayFromHeap(dy), backend.typedArrayFromHeap(out));
  return out;
}

let registered = false;

/** Registers the kernels above for the 'wasm' backend (idempotent). */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  if (tf.getKernel(tf.Conv2DBackpropFilter, 'wasm') == null) {
    tf.registerKernel({ kernelName: tf.Conv2DBackpropFilter, backendName: 'wasm', kernelFunc: conv2DBackpropFilterWasm as unknown as tf.KernelFunc });
  }
  // The backend's own input gradient is a direct loop; ours runs on XNNPACK (see above).
  tf.unregisterKernel(tf.Conv2DBackpropInput, 'wasm');
  tf.registerKernel({ kernelName: tf.Conv2DBackpropInput, backendName: 'wasm', kernelFunc: conv2DBackpropInputWasm as unknown as tf.KernelFunc });
  tf.unregisterKernel(tf.MaxPoolGrad, 'wasm');
  tf.registerKernel({ kernelName: tf.MaxPoolGrad, backendName: 'wasm', kernelFunc: maxPoolGradWasm as unknown as tf.KernelFunc });
  for (const [name, kernelFunc] of [
    [tf.DepthwiseConv2dNativeBackpropFilter, depthwiseBackpropFilterWasm],
    [tf.DepthwiseConv2dNativeBackpropInput, depthwiseBackpropInputWasm],
  ] as const) {
    if (tf.getKernel(name, 'wasm') == null) tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  }
  registered = true;
}
