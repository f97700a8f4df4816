/**
 * Training kernels the wasm backend of tfjs does not ship.
 *
 * `Conv2DBackpropFilter` (the gradient of a convolution with respect to its filter) is missing
 * from @tensorflow/tfjs-backend-wasm 4.x, so a convnet cannot be trained there out of the box.
 * We provide it as im2col + one matrix multiply: the patches are gathered in JS straight into the
 * wasm heap (a memory-bound copy), and the product runs in the backend's own `BatchMatMul`
 * kernel (XNNPACK, SIMD), which is where nearly all of the arithmetic is.
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

/** Fills `patches` ([N*OH*OW, KH*KW*CI], row-major) from `x` (NHWC); out-of-image taps are 0. */
export function im2col(
  x: Float32Array,
  patches: Float32Array,
  info: tf.backend_util.Conv2DInfo,
): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = info;
  const rowLength = filterHeight * filterWidth * inChannels;
  const xRowStride = inWidth * inChannels;
  const xBatchStride = inHeight * xRowStride;
  let row = 0;
  for (let n = 0; n < batchSize; n++) {
    const xBatch = n * xBatchStride;
    for (let oh = 0; oh < outHeight; oh++) {
      const ihBase = oh * strideHeight - padInfo.top;
      for (let ow = 0; ow < outWidth; ow++) {
        const iwBase = ow * strideWidth - padInfo.left;
        let offset = row * rowLength;
        for (let kh = 0; kh < filterHeight; kh++) {
          const ih = ihBase + kh;
          if (ih < 0 || ih >= inHeight) {
            patches.fill(0, offset, offset + filterWidth * inChannels);
            offset += filterWidth * inChannels;
            continue;
          }
          const xRow = xBatch + ih * xRowStride;
          // Contiguous run of taps that fall inside the image on this row.
          const kwStart = Math.max(0, -iwBase);
          const kwEnd = Math.min(filterWidth, inWidth - iwBase);
          if (kwStart > 0) patches.fill(0, offset, offset + kwStart * inChannels);
          if (kwEnd > kwStart) {
            const src = xRow + (iwBase + kwStart) * inChannels;
            const len = (kwEnd - kwStart) * inChannels;
            const dst = offset + kwStart * inChannels;
            if (len < 16) {
              for (let i = 0; i < len; i++) patches[dst + i] = x[src + i];
            } else {
              patches.set(x.subarray(src, src + len), dst);
            }
          }
          const kwEndClamped = Math.max(kwEnd, kwStart);
          if (kwEndClamped < filterWidth) {
            patches.fill(0, offset + kwEndClamped * inChannels, offset + filterWidth * inChannels);
          }
          offset += filterWidth * inChannels;
        }
        row++;
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
  const patches = backend.makeOutput([1, rows, rowLength], 'float32');
  im2col(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(patches), info);

  // dW^T [CO, K] = DY^T [CO, M] . P [M, K]: the backend's matmul is ~10x faster without a
  // transposed operand, and transposing DY and the small result is cheap.
  const b = args.backend;
  const dy3d = wasmKernel(tf.Reshape, { inputs: { x: dy }, backend: b, attrs: { shape: [1, rows, info.outChannels] } });
  const dyT = wasmKernel(tf.Transpose, { inputs: { x: dy3d }, backend: b, attrs: { perm: [0, 2, 1] } });
  const productT = wasmKernel(tf.BatchMatMul, { inputs: { a: dyT, b: patches }, backend: b, attrs: { transposeA: false, transposeB: false } });
  const product = wasmKernel(tf.Transpose, { inputs: { x: productT }, backend: b, attrs: { perm: [0, 2, 1] } });
  for (const t of [patches, dy3d, dyT, productT]) backend.disposeData(t.dataId);
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
  registered = true;
}
