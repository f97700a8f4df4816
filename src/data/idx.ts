/**
 * IDX, the file format of MNIST (http://yann.lecun.com/exdb/mnist/): a 4-byte magic number
 * (0, 0, element type, number of dimensions), one big-endian uint32 per dimension, then the data.
 * Files may be gzip-compressed (`.gz`).
 */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { UserError, messages } from '../messages.js';

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const UBYTE = 0x08;

export function decodeIdx(bytes: Uint8Array, origin = 'IDX data'): IdxArray {
  if (bytes.length < 4) throw new UserError(messages.corruptIdx(origin, `only ${bytes.length} bytes`));
  if (bytes[0] !== 0 || bytes[1] !== 0) throw new UserError(messages.corruptIdx(origin, 'bad magic number (first two bytes must be 0)'));
  const type = bytes[2]!;
  if (type !== UBYTE) throw new UserError(messages.corruptIdx(origin, `element type 0x${type.toString(16)} is not supported (only unsigned bytes, 0x08)`));
  const rank = bytes[3]!;
  if (rank < 1 || rank > 4) throw new UserError(messages.corruptIdx(origin, `${rank} dimensions (expected 1 to 4)`));
  const headerLength = 4 + 4 * rank;
  if (bytes.length < headerLength) throw new UserError(messages.corruptIdx(origin, 'truncated header'));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const expected = dims.reduce((a, b) => a * b, 1);
  const available = bytes.length - headerLength;
  if (available < expected) throw new UserError(messages.corruptIdx(origin, `truncated: header promises ${expected} bytes of data, file has ${available}`));
  if (available > expected) throw new UserError(messages.corruptIdx(origin, `${available - expected} unexpected trailing bytes`));
  return { dims, data: bytes.subarray(headerLength, headerLength + expected) };
}

export function readIdxFile(file: string): IdxArray {
  let bytes: Uint8Array = fs.readFileSync(file);
  if (file.endsWith('.gz')) {
    try {
      bytes = zlib.gunzipSync(bytes);
    } catch (error) {
      throw new UserError(messages.corruptIdx(file, `gzip: ${error instanceof Error ? error.message : String(error)}`));
    }
  }
  return decodeIdx(bytes, file);
}

/** Encodes unsigned bytes as IDX (used by tests and `dalab data import`). */
export function encodeIdx(dims: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out[2] = UBYTE;
  out[3] = dims.length;
  const view = new DataView(out.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}
