/**
 * safetensors (huggingface/safetensors, "format" in its README): an 8-byte little-endian unsigned
 * header length N, N bytes of JSON `{name: {dtype, shape, data_offsets: [begin, end]}, ...,
 * "__metadata__": {string: string}}`, then the raw little-endian buffers, offsets relative to the
 * byte after the header. Read for this project (no maintained npm reader exists).
 */
import { ELEMENT_BYTES, WeightsFileError, decodeElements, elementCount, type ElementType, type NamedTensor } from './tensors.js';

const DTYPES: Record<string, ElementType> = { F32: 'f32', F16: 'f16', BF16: 'bf16', F64: 'f64', I64: 'i64', I32: 'i32', I16: 'i16', I8: 'i8', U8: 'u8', BOOL: 'bool' };

export interface SafetensorsFile {
  tensors: NamedTensor[];
  metadata: Record<string, string>;
}

export function readSafetensors(bytes: Uint8Array, file: string): SafetensorsFile {
  const fail = (problem: string): never => {
    throw new WeightsFileError(file, problem);
  };
  if (bytes.length < 8) fail(`truncated: ${bytes.length} bytes, shorter than safetensors' 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(bytes.length - 8)) fail(`header length ${headerLength} exceeds the ${bytes.length - 8} bytes after it (truncated, or not a safetensors file)`);
  const n = Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, n).toString('utf8'));
  } catch (error) {
    fail(`the ${n}-byte header is not JSON (${(error as Error).message}); not a safetensors file?`);
  }
  if (header == null || typeof header !== 'object' || Array.isArray(header)) fail('the header is not a JSON object');
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const tensors: NamedTensor[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = (entry ?? {}) as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const type = typeof e?.dtype === 'string' ? DTYPES[e.dtype] : undefined;
    if (type == null) fail(`tensor ${name}: dtype ${JSON.stringify(e?.dtype)} is not supported (${Object.keys(DTYPES).join(', ')})`);
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor ${name}: shape ${JSON.stringify(shape)} is not a list of sizes`);
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0) || offsets[1] < offsets[0]) fail(`tensor ${name}: data_offsets ${JSON.stringify(offsets)} are not [begin, end]`);
    const [begin, end] = offsets as [number, number];
    const count = elementCount(shape as number[]);
    if (end - begin !== count * ELEMENT_BYTES[type!]) fail(`tensor ${name}: ${end - begin} bytes for shape [${(shape as number[]).join(', ')}] of ${e.dtype} (${count * ELEMENT_BYTES[type!]} expected)`);
    if (end > dataLength) fail(`truncated: tensor ${name} ends at byte ${dataStart + end}, the file has ${bytes.length}`);
    tensors.push({ name, dtype: e.dtype as string, shape: shape as number[], data: decodeElements(bytes, dataStart + begin, count, type!) });
  }
  return { tensors, metadata };
}

/**
 * Writes tensors as a safetensors file's bytes (`dalab weights export`): F32, or I64 where a
 * tensor's dtype says so (batch norm's `num_batches_tracked`).
 */
export function writeSafetensors(tensors: readonly { name: string; shape: readonly number[]; data: Float32Array; dtype?: string }[], metadata: Record<string, string> = {}): Buffer {
  const header: Record<string, unknown> = Object.keys(metadata).length > 0 ? { __metadata__: metadata } : {};
  const width = (t: { dtype?: string }) => (t.dtype === 'I64' ? 8 : 4);
  let offset = 0;
  for (const t of tensors) {
    const bytes = width(t) * t.data.length;
    header[t.name] = { dtype: t.dtype === 'I64' ? 'I64' : 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const body = Buffer.alloc(offset);
  let at = 0;
  for (const t of tensors) {
    if (t.dtype === 'I64') for (let i = 0; i < t.data.length; i++) body.writeBigInt64LE(BigInt(Math.round(t.data[i]!)), at + 8 * i);
    else for (let i = 0; i < t.data.length; i++) body.writeFloatLE(t.data[i]!, at + 4 * i);
    at += width(t) * t.data.length;
  }
  return Buffer.concat([head, Buffer.from(json), body]);
}
