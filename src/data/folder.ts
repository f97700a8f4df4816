/**
 * `folder:PATH`: the user's own domain as image files: PATH/train/<class>/*.png|jpg|jpeg and
 * PATH/test/<class>/..., class folders sorted by name (numerically when all are integers) to
 * give labels 0..K-1. Every image of a domain must share one size and is kept as grey (when every
 * image is grey) or RGB bytes; `model.input` resizing happens in the one preprocessing step.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { UserError, messages } from '../messages.js';
import type { DomainSource, ImageSet } from './types.js';

const IMAGE = /\.(png|jpe?g)$/i;

interface Decoded {
  width: number;
  height: number;
  /** RGBA bytes. */
  rgba: Uint8Array;
}

function decodeImage(file: string): Decoded {
  const bytes = fs.readFileSync(file);
  try {
    if (/\.png$/i.test(file)) {
      const png = PNG.sync.read(bytes);
      return { width: png.width, height: png.height, rgba: png.data };
    }
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 256 });
    return { width: img.width, height: img.height, rgba: img.data };
  } catch (error) {
    throw new UserError(messages.badImageFile(file, (error as Error).message));
  }
}

function classFolders(dir: string): string[] {
  const names = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
  const numeric = names.length > 0 && names.every((n) => /^\d+$/.test(n));
  return names.sort((a, b) => (numeric ? Number(a) - Number(b) : a.localeCompare(b)));
}

function readPart(dir: string, classes: readonly string[], field: string): ImageSet {
  const files: { file: string; label: number }[] = [];
  classes.forEach((cls, label) => {
    const classDir = path.join(dir, cls);
    if (!fs.existsSync(classDir)) return;
    for (const f of fs.readdirSync(classDir).sort()) if (IMAGE.test(f)) files.push({ file: path.join(classDir, f), label });
  });
  if (files.length === 0) throw new UserError(messages.folderEmpty(field, dir));
  const decoded = files.map((f) => ({ ...f, image: decodeImage(f.file) }));
  const { width, height } = decoded[0]!.image;
  for (const d of decoded) {
    if (d.image.width !== width || d.image.height !== height) throw new UserError(messages.folderSizes(field, d.file, `${d.image.width}x${d.image.height}`, `${width}x${height}`));
  }
  const grey = decoded.every((d) => {
    const p = d.image.rgba;
    for (let i = 0; i < p.length; i += 4) if (p[i] !== p[i + 1] || p[i] !== p[i + 2]) return false;
    return true;
  });
  const channels = grey ? 1 : 3;
  const images = new Uint8Array(decoded.length * width * height * channels);
  decoded.forEach((d, n) => {
    const p = d.image.rgba;
    for (let i = 0, o = n * width * height * channels; i < width * height; i++) {
      if (grey) images[o++] = p[i * 4]!;
      else {
        images[o++] = p[i * 4]!;
        images[o++] = p[i * 4 + 1]!;
        images[o++] = p[i * 4 + 2]!;
      }
    }
  });
  return { images, labels: Int32Array.from(decoded.map((d) => d.label)), count: decoded.length, height, width, channels };
}

export function loadImageFolder(root: string, field: string): DomainSource {
  for (const part of ['train', 'test']) {
    if (!fs.existsSync(path.join(root, part)) || !fs.statSync(path.join(root, part)).isDirectory()) throw new UserError(messages.folderPartMissing(field, root, part));
  }
  const classes = classFolders(path.join(root, 'train'));
  if (classes.length < 2) throw new UserError(messages.folderEmpty(field, path.join(root, 'train')));
  const extra = classFolders(path.join(root, 'test')).filter((c) => !classes.includes(c));
  if (extra.length > 0) throw new UserError(messages.folderExtraClass(field, root, extra));
  const train = readPart(path.join(root, 'train'), classes, field);
  const test = readPart(path.join(root, 'test'), classes, field);
  if (train.channels !== test.channels) {
    // One domain, one channel count: promote the grey part to RGB.
    const promote = (s: ImageSet): ImageSet => {
      const out = new Uint8Array(s.count * s.height * s.width * 3);
      for (let i = 0; i < s.images.length; i++) out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = s.images[i]!;
      return { ...s, images: out, channels: 3 };
    };
    return { name: `folder:${root}`, numClasses: classes.length, train: train.channels === 1 ? promote(train) : train, test: test.channels === 1 ? promote(test) : test };
  }
  return { name: `folder:${root}`, numClasses: classes.length, train, test };
}
