/**
 * The part of the zip format (PKWARE APPNOTE 6.3) that `torch.save` writes: the end-of-central-
 * directory record (zip64 when a field overflows), the central directory, local headers (torch
 * pads them with an extra field so that data starts on a 64-byte boundary), members stored or
 * deflated. Member names are checked: none may be absolute or climb out with `..`.
 */
import * as zlib from 'node:zlib';
import { WeightsFileError } from './tensors.js';

export interface ZipMember {
  readonly name: string;
  /** The member's bytes (inflated when deflated). */
  read(): Uint8Array;
}

const EOCD = 0x06054b50;
const EOCD64 = 0x06064b50;
const EOCD64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

export const isZip = (bytes: Uint8Array): boolean => bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;

export function readZip(bytes: Uint8Array, file: string): ZipMember[] {
  const fail = (problem: string): never => {
    throw new WeightsFileError(file, problem);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number) => view.getUint16(at, true);
  const u32 = (at: number) => view.getUint32(at, true);
  const u64 = (at: number) => Number(view.getBigUint64(at, true));
  let eocd = -1;
  for (let at = bytes.length - 22; at >= Math.max(0, bytes.length - 22 - 65535); at--) {
    if (u32(at) === EOCD) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) fail('truncated or not a zip file: no end-of-central-directory record');
  let entries = u16(eocd + 10);
  let cdSize = u32(eocd + 12);
  let cdOffset = u32(eocd + 16);
  if (entries === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const locator = eocd - 20;
    if (locator < 0 || u32(locator) !== EOCD64_LOCATOR) fail('zip64 end-of-central-directory locator missing');
    const record = u64(locator + 8);
    if (record + 56 > bytes.length || u32(record) !== EOCD64) fail('zip64 end-of-central-directory record missing');
    entries = u64(record + 32);
    cdSize = u64(record + 40);
    cdOffset = u64(record + 48);
  }
  if (cdOffset + cdSize > bytes.length) fail(`truncated: the central directory ends at byte ${cdOffset + cdSize}, the file has ${bytes.length}`);
  const members: ZipMember[] = [];
  let at = cdOffset;
  for (let i = 0; i < entries; i++) {
    if (at + 46 > bytes.length || u32(at) !== CENTRAL) fail(`central directory entry ${i} is damaged`);
    const method = u16(at + 10);
    let compressed = u32(at + 20);
    let size = u32(at + 24);
    const nameLength = u16(at + 28);
    const extraLength = u16(at + 30);
    const commentLength = u16(at + 32);
    let local = u32(at + 42);
    const name = Buffer.from(bytes.buffer, bytes.byteOffset + at + 46, nameLength).toString('utf8');
    // zip64 extended information (header id 1): the overflowing fields, in order.
    for (let e = at + 46 + nameLength; e + 4 <= at + 46 + nameLength + extraLength; ) {
      const id = u16(e);
      const length = u16(e + 2);
      if (id === 1) {
        let f = e + 4;
        if (size === 0xffffffff) (size = u64(f)), (f += 8);
        if (compressed === 0xffffffff) (compressed = u64(f)), (f += 8);
        if (local === 0xffffffff) local = u64(f);
      }
      e += 4 + length;
    }
    at += 46 + nameLength + extraLength + commentLength;
    const parts = name.split(/[\\/]/);
    if (name.startsWith('/') || name.startsWith('\\') || /^[A-Za-z]:/.test(name) || parts.includes('..')) fail(`zip member ${JSON.stringify(name)} escapes its folder`);
    if (method !== 0 && method !== 8) fail(`zip member ${name}: compression method ${method} is not supported (stored or deflated)`);
    members.push({
      name,
      read: () => {
        if (local + 30 > bytes.length || u32(local) !== LOCAL) fail(`zip member ${name}: local header missing (truncated?)`);
        const start = local + 30 + u16(local + 26) + u16(local + 28);
        if (start + compressed > bytes.length) fail(`truncated: zip member ${name} ends at byte ${start + compressed}, the file has ${bytes.length}`);
        const raw = bytes.subarray(start, start + compressed);
        if (method === 0) return raw;
        try {
          const out = zlib.inflateRawSync(raw);
          if (out.length !== size) fail(`zip member ${name}: inflated to ${out.length} bytes, ${size} expected`);
          return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
        } catch (error) {
          if (error instanceof WeightsFileError) throw error;
          return fail(`zip member ${name}: cannot inflate (${(error as Error).message})`);
        }
      },
    });
  }
  return members;
}
