/**
 * SVHN (Netzer et al. 2011), cropped digits: `train_32x32.mat`, `test_32x32.mat` (and
 * `extra_32x32.mat`), MATLAB level-5 files holding X (32x32x3xN uint8, column-major) and y (Nx1;
 * label 10 means digit 0). Images become NHWC bytes; nothing is scaled.
 */
import * as path from 'node:path';
import { readMatFile, type MatVariable } from './mat.js';
import { UserError, messages } from '../messages.js';
import type { ImageSet } from './types.js';

export function svhnFromMat(vars: Map<string, MatVariable>, origin: string): ImageSet {
  const x = vars.get('X');
  const y = vars.get('y');
  if (x == null || y == null) throw new UserError(messages.corruptMat(origin, `expected variables X and y, found ${[...vars.keys()].join(', ') || 'none'}`));
  if (x.dims.length !== 4 || x.dims[2] !== 3 || !(x.data instanceof Uint8Array)) {
    throw new UserError(messages.corruptMat(origin, `X must be HxWx3xN uint8, found ${x.dims.join('x')} (class ${x.classId})`));
  }
  const [height, width, channels, count] = x.dims as [number, number, number, number];
  if (y.data.length !== count) throw new UserError(messages.corruptMat(origin, `${y.data.length} labels for ${count} images`));
  const src = x.data;
  const images = new Uint8Array(count * height * width * channels);
  const plane = height * width;
  const per = plane * channels;
  for (let n = 0; n < count; n++) {
    const base = n * per;
    for (let ch = 0; ch < channels; ch++) {
      for (let c = 0; c < width; c++) {
        let s = base + ch * plane + c * height;
        let d = base + c * channels + ch;
        for (let r = 0; r < height; r++, s++, d += width * channels) images[d] = src[s]!;
      }
    }
  }
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const v = Number(y.data[i]);
    if (!Number.isInteger(v) || v < 0 || v > 10) throw new UserError(messages.corruptMat(origin, `label ${v} at ${i} (expected 1..10; 10 means 0)`));
    labels[i] = v === 10 ? 0 : v;
  }
  return { images, labels, count, height, width, channels };
}

export function readSvhnFile(file: string): ImageSet {
  return svhnFromMat(readMatFile(file), path.basename(file));
}
