/**
 * One preprocessing step brings every domain to the model's input shape: bilinear resize and
 * grey <-> RGB, still as bytes: once per dataset when the input is not larger than the stored
 * images, per batch otherwise (toInputShape). Scaling to floats happens per batch.
 */
import type { ImageSet } from './types.js';

/** Bilinear resize with half-pixel centres (as OpenCV / tf.image.resizeBilinear(halfPixelCenters)). */
function resizeImage(src: Uint8Array, sh: number, sw: number, c: number, dst: Uint8Array, dh: number, dw: number): void {
  const sy = sh / dh;
  const sx = sw / dw;
  for (let y = 0; y < dh; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), sh - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, sh - 1);
    const wy = fy - y0;
    for (let x = 0; x < dw; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), sw - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, sw - 1);
      const wx = fx - x0;
      for (let k = 0; k < c; k++) {
        const a = src[(y0 * sw + x0) * c + k]!;
        const b = src[(y0 * sw + x1) * c + k]!;
        const d = src[(y1 * sw + x0) * c + k]!;
        const e = src[(y1 * sw + x1) * c + k]!;
        const top = a + (b - a) * wx;
        const bottom = d + (e - d) * wx;
        dst[(y * dw + x) * c + k] = Math.round(top + (bottom - top) * wy);
      }
    }
  }
}

type Shape = { height: number; width: number; channels: number };

/**
 * One image from its stored shape to the input shape: resize (when the size differs), then
 * grey -> RGB (replicated) or RGB -> grey (luma). `scratch` holds at least
 * to.height * to.width * from.channels bytes.
 */
export function convertImage(src: Uint8Array, from: Shape, dst: Uint8Array, to: Shape, scratch: Uint8Array): void {
  const pixels = to.height * to.width;
  let img: Uint8Array = src;
  if (from.height !== to.height || from.width !== to.width) {
    resizeImage(src, from.height, from.width, from.channels, scratch, to.height, to.width);
    img = scratch;
  }
  if (from.channels === to.channels) {
    dst.set(img.subarray(0, pixels * to.channels));
  } else if (from.channels === 1) {
    for (let p = 0; p < pixels; p++) {
      const v = img[p]!;
      dst[3 * p] = v;
      dst[3 * p + 1] = v;
      dst[3 * p + 2] = v;
    }
  } else {
    // ITU-R BT.601 luma, as PIL's convert('L').
    for (let p = 0; p < pixels; p++) {
      dst[p] = Math.round(0.299 * img[3 * p]! + 0.587 * img[3 * p + 1]! + 0.114 * img[3 * p + 2]!);
    }
  }
}

/**
 * Brings a set to [height, width, channels]; returns the same object when nothing changes. A set
 * stored smaller than the input keeps its bytes and is converted image by image whenever it
 * becomes floats (types.ts `stored`): the same values as converting here, without holding the
 * whole set at the larger size. Smaller inputs are converted here, once.
 */
export function toInputShape(set: ImageSet, shape: readonly [number, number, number]): ImageSet {
  const [height, width, channels] = shape;
  const from = set.stored ?? set;
  const { stored: _, ...plain } = set;
  if (from.height === height && from.width === width && from.channels === channels) {
    return set.stored == null ? set : { ...plain, height, width, channels };
  }
  const lazy = { ...plain, height, width, channels, stored: { height: from.height, width: from.width, channels: from.channels } };
  return height * width > from.height * from.width ? lazy : materialize(lazy);
}

/** The bytes of a set at its input shape, all at once (what toInputShape avoids for larger inputs). */
export function materialize(set: ImageSet): ImageSet {
  if (set.stored == null) return set;
  const { stored, ...shape } = set;
  const inSize = stored.height * stored.width * stored.channels;
  const outSize = set.height * set.width * set.channels;
  const scratch = new Uint8Array(set.height * set.width * stored.channels);
  const out = new Uint8Array(set.count * outSize);
  for (let i = 0; i < set.count; i++) {
    convertImage(set.images.subarray(i * inSize, (i + 1) * inSize), stored, out.subarray(i * outSize, (i + 1) * outSize), set, scratch);
  }
  return { ...shape, images: out };
}
