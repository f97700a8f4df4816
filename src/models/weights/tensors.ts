/**
 * What the checkpoint readers return: named tensors as float32 (every floating dtype is widened;
 * integer tensors, such as batch norm's `num_batches_tracked`, are converted too and normally
 * ignored), in the order the file lists them. A reader never runs code from the file and throws a
 * UserError naming the file and the problem for anything it does not understand.
 */
import { UserError } from '../../messages.js';

export interface NamedTensor {
  readonly name: string;
  /** The dtype as the file names it (safetensors' F32 / F16 / BF16 ..., torch's Float / Half ...). */
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export class WeightsFileError extends UserError {
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
  }
}

/** IEEE half precision (binary16) to float32. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

export type ElementType = 'f32' | 'f16' | 'bf16' | 'f64' | 'i64' | 'i32' | 'i16' | 'i8' | 'u8' | 'bool';

export const ELEMENT_BYTES: Record<ElementType, number> = { f32: 4, f16: 2, bf16: 2, f64: 8, i64: 8, i32: 4, i16: 2, i8: 1, u8: 1, bool: 1 };

/** `count` little-endian elements of `type` starting at byte `offset` of `bytes`, as float32. */
export function decodeElements(bytes: Uint8Array, offset: number, count: number, type: ElementType): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, count * ELEMENT_BYTES[type]);
  const out = new Float32Array(count);
  switch (type) {
    case 'f32':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
      break;
    case 'f16':
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
      break;
    case 'bf16': {
      const scratch = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < count; i++) {
        scratch.setUint32(0, view.getUint16(2 * i, true) << 16);
        out[i] = scratch.getFloat32(0);
      }
      break;
    }
    case 'f64':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, true);
      break;
    case 'i64':
      for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(8 * i, true));
      break;
    case 'i32':
      for (let i = 0; i < count; i++) out[i] = view.getInt32(4 * i, true);
      break;
    case 'i16':
      for (let i = 0; i < count; i++) out[i] = view.getInt16(2 * i, true);
      break;
    case 'i8':
      for (let i = 0; i < count; i++) out[i] = view.getInt8(i);
      break;
    case 'u8':
    case 'bool':
      for (let i = 0; i < count; i++) out[i] = view.getUint8(i);
      break;
  }
  return out;
}

export const elementCount = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
