/**
 * USPS handwritten digits as published with "The Elements of Statistical Learning":
 * `zip.train.gz` (7,291 images) and `zip.test.gz` (2,007), gzipped text, one image per line: the
 * digit, then 256 grey values in [-1, 1] (16x16, row by row; -1 is background). Values become
 * bytes round((v + 1) / 2 * 255); a truncated or malformed file is rejected with the line.
 */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { UserError, messages } from '../messages.js';
import type { ImageSet } from './types.js';

export const USPS_SIZE = 16;

export function decodeUsps(text: string, origin: string): ImageSet {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const count = lines.length;
  if (count === 0) throw new UserError(messages.corruptUsps(origin, 'no images'));
  const pixels = USPS_SIZE * USPS_SIZE;
  const images = new Uint8Array(count * pixels);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const fields = lines[i]!.trim().split(/\s+/);
    if (fields.length !== pixels + 1) throw new UserError(messages.corruptUsps(origin, `line ${i + 1} has ${fields.length} values (expected 257: a label and 256 pixels)`));
    const label = Number(fields[0]);
    if (!Number.isInteger(label) || label < 0 || label > 9) throw new UserError(messages.corruptUsps(origin, `line ${i + 1}: label '${fields[0]}' is not a digit`));
    labels[i] = label;
    for (let p = 0; p < pixels; p++) {
      const v = Number(fields[p + 1]);
      if (!Number.isFinite(v) || v < -1.0001 || v > 1.0001) throw new UserError(messages.corruptUsps(origin, `line ${i + 1}: pixel ${p + 1} is '${fields[p + 1]}' (expected a number in [-1, 1])`));
      images[i * pixels + p] = Math.max(0, Math.min(255, Math.round(((v + 1) / 2) * 255)));
    }
  }
  return { images, labels, count, height: USPS_SIZE, width: USPS_SIZE, channels: 1 };
}

export function readUspsFile(file: string): ImageSet {
  let text: string;
  try {
    const raw = fs.readFileSync(file);
    text = (file.endsWith('.gz') ? zlib.gunzipSync(raw) : raw).toString('latin1');
  } catch (error) {
    throw new UserError(messages.corruptUsps(file, `cannot decompress (${(error as Error).message})`));
  }
  return decodeUsps(text, file);
}
