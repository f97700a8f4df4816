import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import test from 'ava';
import { decodeIdx, readIdxFile } from '../../src/data/idx.js';
import { UserError } from '../../src/messages.js';
import { tempDir } from '../helpers.js';

// Bytes written by hand from the format description: magic 0x00000803 (ubyte, 3 dims), dims 2x2x3.
const IMAGES = Uint8Array.from([
  0x00, 0x00, 0x08, 0x03,
  0x00, 0x00, 0x00, 0x02,
  0x00, 0x00, 0x00, 0x02,
  0x00, 0x00, 0x00, 0x03,
  0, 1, 2, 3, 4, 5,
  250, 251, 252, 253, 254, 255,
]);
const LABELS = Uint8Array.from([0x00, 0x00, 0x08, 0x01, 0x00, 0x00, 0x00, 0x02, 7, 3]);

test('decodes hand-written IDX images and labels', (t) => {
  const images = decodeIdx(IMAGES);
  t.deepEqual(images.dims, [2, 2, 3]);
  t.deepEqual(Array.from(images.data), [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
  const labels = decodeIdx(LABELS);
  t.deepEqual(labels.dims, [2]);
  t.deepEqual(Array.from(labels.data), [7, 3]);
});

test('reads gzip-compressed IDX files', (t) => {
  const dir = tempDir();
  const file = path.join(dir, 'train-labels-idx1-ubyte.gz');
  fs.writeFileSync(file, zlib.gzipSync(LABELS));
  t.deepEqual(Array.from(readIdxFile(file).data), [7, 3]);
});

test('rejects truncated, padded and corrupt IDX data with a clear error', (t) => {
  const truncated = t.throws(() => decodeIdx(IMAGES.subarray(0, IMAGES.length - 1), 'x.idx'), { instanceOf: UserError });
  t.regex(truncated!.message, /x\.idx: not a valid IDX file: truncated: header promises 12 bytes of data, file has 11/);
  t.throws(() => decodeIdx(Uint8Array.from([...LABELS, 9])), { message: /1 unexpected trailing bytes/ });
  t.throws(() => decodeIdx(Uint8Array.from([1, 0, 8, 1, 0, 0, 0, 0])), { message: /bad magic number/ });
  t.throws(() => decodeIdx(Uint8Array.from([0, 0, 0x0d, 1, 0, 0, 0, 0])), { message: /element type 0xd is not supported/ });
  t.throws(() => decodeIdx(Uint8Array.from([0, 0, 8, 3, 0, 0])), { message: /truncated header/ });
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'bad.gz'), Buffer.from('not gzip'));
  t.throws(() => readIdxFile(path.join(dir, 'bad.gz')), { message: /gzip/ });
});
