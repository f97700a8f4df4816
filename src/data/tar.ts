/**
 * A reader for (gzipped) tar archives in the ustar / GNU format, enough for datasets shipped as
 * `.tar.gz` (MNIST-M's mnist_m.tar.gz): regular files with their paths (ustar prefix and GNU long
 * names included), every header's checksum verified; anything else (links, folders) is skipped.
 * Looked at: the npm packages `tar` and `tar-stream` are streaming extractors to disk or event
 * streams; a dataset needs the entries in memory, once, so 60 lines here do it.
 */
import * as zlib from 'node:zlib';

export interface TarEntry {
  name: string;
  data: Uint8Array;
}

const BLOCK = 512;

function text(bytes: Uint8Array, from: number, length: number): string {
  let end = from;
  while (end < from + length && bytes[end] !== 0) end++;
  return Buffer.from(bytes.subarray(from, end)).toString('utf8');
}

function octal(bytes: Uint8Array, from: number, length: number): number {
  const s = text(bytes, from, length).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new Error(`not an octal number: '${s}'`);
  return parseInt(s, 8);
}

/** The archive's regular files in order; throws an Error saying what is wrong with a damaged archive. */
export function readTar(archive: Uint8Array): TarEntry[] {
  const bytes = archive.length >= 2 && archive[0] === 0x1f && archive[1] === 0x8b ? new Uint8Array(zlib.gunzipSync(archive)) : archive;
  if (bytes.length < BLOCK || bytes.length % BLOCK !== 0) throw new Error(`${bytes.length} bytes, not whole ${BLOCK}-byte tar blocks`);
  const entries: TarEntry[] = [];
  let offset = 0;
  let longName: string | null = null;
  while (offset + BLOCK <= bytes.length) {
    const header = bytes.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) break; // end of archive
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : header[i]!;
    const stored = octal(header, 148, 8);
    if (stored !== sum) throw new Error(`header at byte ${offset}: checksum ${stored}, computed ${sum}`);
    const size = octal(header, 124, 12);
    const type = String.fromCharCode(header[156]! || 0x30);
    const start = offset + BLOCK;
    if (start + size > bytes.length) throw new Error(`entry '${text(header, 0, 100)}' is truncated (${size} bytes announced, ${bytes.length - start} left)`);
    const data = bytes.subarray(start, start + size);
    const prefix = text(header, 0x101, 6) === 'ustar' ? text(header, 345, 155) : '';
    const name = longName ?? (prefix !== '' ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100));
    longName = null;
    if (type === 'L') longName = text(data, 0, data.length);
    else if (type === '0' || type === '7') entries.push({ name, data });
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  return entries;
}
