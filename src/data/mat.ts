/**
 * A reader for MATLAB level-5 MAT-files (the format of SVHN's train_32x32.mat / test_32x32.mat),
 * written from MathWorks' "MAT-File Format" specification: a 128-byte header (text, subsystem
 * offset, version 0x0100, endian indicator 'IM' little / 'MI' big), then data elements, each an
 * 8-byte tag (type, byte count; or the 4-byte "small element" form) and its data padded to 8 bytes.
 * miCOMPRESSED elements hold a zlib stream of further elements. miMATRIX elements hold array flags,
 * dimensions, name and the real part of numeric arrays, column-major (first index fastest).
 * Only numeric (non-complex, non-sparse) arrays are decoded; other variables are listed and skipped.
 * Uncompressed numeric data is returned as a view into the file's bytes (no copy).
 */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { UserError, messages } from '../messages.js';

const MI = { INT8: 1, UINT8: 2, INT16: 3, UINT16: 4, INT32: 5, UINT32: 6, SINGLE: 7, DOUBLE: 9, INT64: 12, UINT64: 13, MATRIX: 14, COMPRESSED: 15, UTF8: 16, UTF16: 17, UTF32: 18 } as const;
const ELEMENT_BYTES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8 };
/** mxCLASS ids of numeric arrays. */
const NUMERIC_CLASSES = new Set([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);

export type MatData = Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

export interface MatVariable {
  name: string;
  /** MATLAB dimensions, e.g. [32, 32, 3, N]. */
  dims: number[];
  /** mxCLASS id (6 double, 7 single, 8 int8, 9 uint8, ...). */
  classId: number;
  /** The real part, column-major, in its stored type. */
  data: MatData;
}

class Reader {
  constructor(
    readonly bytes: Uint8Array,
    readonly view: DataView,
    readonly little: boolean,
    readonly origin: string,
  ) {}

  u32(offset: number): number {
    return this.view.getUint32(offset, this.little);
  }

  i32(offset: number): number {
    return this.view.getInt32(offset, this.little);
  }
}

interface Element {
  type: number;
  /** Data bytes [start, end) in reader.bytes. */
  start: number;
  end: number;
  /** Offset of the next element. */
  next: number;
}

function fail(origin: string, detail: string): never {
  throw new UserError(messages.corruptMat(origin, detail));
}

function readTag(r: Reader, offset: number, limit: number): Element {
  if (offset + 8 > limit) fail(r.origin, `truncated: an element tag at byte ${offset} runs past the end`);
  const first = r.u32(offset);
  if (first >>> 16 !== 0) {
    // Small data element: type in the low 16 bits, byte count in the high 16, data in the next 4 bytes.
    const type = first & 0xffff;
    const size = first >>> 16;
    if (size > 4) fail(r.origin, `small element of ${size} bytes at byte ${offset}`);
    return { type, start: offset + 4, end: offset + 4 + size, next: offset + 8 };
  }
  const type = first;
  const size = r.u32(offset + 4);
  const start = offset + 8;
  const end = start + size;
  if (end > limit) fail(r.origin, `truncated: an element of ${size} bytes at byte ${offset} runs past the end (${limit} bytes)`);
  // Compressed elements are not padded; all others are padded to a multiple of 8 bytes.
  const next = type === MI.COMPRESSED ? end : start + Math.ceil(size / 8) * 8;
  return { type, start, end, next: Math.min(next, limit) };
}

function numericView(r: Reader, el: Element): MatData {
  const width = ELEMENT_BYTES[el.type];
  if (width == null) fail(r.origin, `unsupported numeric element type ${el.type}`);
  const length = el.end - el.start;
  if (length % width !== 0) fail(r.origin, `element of type ${el.type} has ${length} bytes, not a multiple of ${width}`);
  const count = length / width;
  const absolute = r.bytes.byteOffset + el.start;
  // Typed-array views need aligned offsets and the machine's byte order; copy otherwise.
  const aligned = absolute % width === 0 && (r.little || width === 1);
  const buffer = r.bytes.buffer;
  const make = (ctor: { new (b: ArrayBufferLike, o: number, n: number): MatData; new (n: number): MatData }, get: (dv: DataView, o: number) => number | bigint): MatData => {
    if (aligned) return new ctor(buffer, absolute, count);
    const out = new ctor(count);
    for (let i = 0; i < count; i++) (out as unknown as (number | bigint)[])[i] = get(r.view, el.start + i * width);
    return out;
  };
  const le = r.little;
  switch (el.type) {
    case MI.INT8:
      return make(Int8Array, (dv, o) => dv.getInt8(o));
    case MI.UINT8:
      return make(Uint8Array, (dv, o) => dv.getUint8(o));
    case MI.INT16:
      return make(Int16Array, (dv, o) => dv.getInt16(o, le));
    case MI.UINT16:
      return make(Uint16Array, (dv, o) => dv.getUint16(o, le));
    case MI.INT32:
      return make(Int32Array, (dv, o) => dv.getInt32(o, le));
    case MI.UINT32:
      return make(Uint32Array, (dv, o) => dv.getUint32(o, le));
    case MI.SINGLE:
      return make(Float32Array, (dv, o) => dv.getFloat32(o, le));
    case MI.DOUBLE:
      return make(Float64Array, (dv, o) => dv.getFloat64(o, le));
    case MI.INT64:
      return make(BigInt64Array as never, (dv, o) => dv.getBigInt64(o, le));
    default:
      return make(BigUint64Array as never, (dv, o) => dv.getBigUint64(o, le));
  }
}

function readMatrix(r: Reader, el: Element): MatVariable | null {
  if (el.end === el.start) return null; // an empty array
  const flags = readTag(r, el.start, el.end);
  if (flags.type !== MI.UINT32 || flags.end - flags.start < 8) fail(r.origin, 'array flags missing');
  const classId = r.u32(flags.start) & 0xff;
  const complex = (r.u32(flags.start) & 0x0800) !== 0;
  const dimsEl = readTag(r, flags.next, el.end);
  if (dimsEl.type !== MI.INT32) fail(r.origin, 'dimensions missing');
  const dims: number[] = [];
  for (let o = dimsEl.start; o < dimsEl.end; o += 4) dims.push(r.i32(o));
  const nameEl = readTag(r, dimsEl.next, el.end);
  const name = new TextDecoder().decode(r.bytes.subarray(nameEl.start, nameEl.end));
  if (!NUMERIC_CLASSES.has(classId) || complex) return { name, dims, classId, data: new Uint8Array(0) };
  const realEl = readTag(r, nameEl.next, el.end);
  const data = numericView(r, realEl);
  const expected = dims.reduce((a, b) => a * b, 1);
  if (data.length !== expected) fail(r.origin, `variable '${name}' has ${data.length} values for dimensions ${dims.join('x')}`);
  return { name, dims, classId, data };
}

function readElements(r: Reader, start: number, limit: number, out: Map<string, MatVariable>): void {
  let offset = start;
  while (offset < limit) {
    if (limit - offset < 8) break; // trailing padding
    const el = readTag(r, offset, limit);
    if (el.type === MI.COMPRESSED) {
      let inflated: Buffer;
      try {
        inflated = zlib.inflateSync(r.bytes.subarray(el.start, el.end));
      } catch (error) {
        fail(r.origin, `a compressed element at byte ${offset} does not inflate (${(error as Error).message})`);
      }
      const inner = new Reader(inflated, new DataView(inflated.buffer, inflated.byteOffset, inflated.byteLength), r.little, r.origin);
      readElements(inner, 0, inflated.length, out);
    } else if (el.type === MI.MATRIX) {
      const v = readMatrix(r, el);
      if (v != null) out.set(v.name, v);
    }
    offset = el.next;
  }
}

/** Decodes a level-5 MAT-file; variables by name. */
export function decodeMat(bytes: Uint8Array, origin = 'MAT data'): Map<string, MatVariable> {
  if (bytes.length < 128) fail(origin, `${bytes.length} bytes: shorter than the 128-byte header`);
  const header = new TextDecoder('latin1').decode(bytes.subarray(0, 116));
  if (header.startsWith('MATLAB 7.3')) fail(origin, 'a MATLAB 7.3 (HDF5) file; save it with -v7 or -v6');
  const indicator = String.fromCharCode(bytes[126]!, bytes[127]!);
  if (indicator !== 'IM' && indicator !== 'MI') fail(origin, `not a level-5 MAT-file (endian indicator ${JSON.stringify(indicator)}, expected "IM" or "MI")`);
  const little = indicator === 'IM';
  const r = new Reader(bytes, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), little, origin);
  const out = new Map<string, MatVariable>();
  readElements(r, 128, bytes.length, out);
  return out;
}

export function readMatFile(file: string): Map<string, MatVariable> {
  return decodeMat(fs.readFileSync(file), file);
}
