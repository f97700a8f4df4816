/**
 * One preprocessing step brings every domain to the model's input shape: bilinear resize and
 * grey <-> RGB, done once per dataset, still as bytes. Scaling to floats happens per batch.
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

/** Brings a set to [height, width, channels]; returns the same object when nothing changes. */
export function toInputShape(set: ImageSet, shape: readonly [number, number, number]): ImageSet {
  const [height, width, channels] = shape;
  if (set.height === height && set.width === width && set.channels === channels) return set;
  const inSize = set.height * set.width * set.channels;
  const resized = new Uint8Array(height * width * set.channels);
  const out = new Uint8Array(set.count * height * width * channels);
  const pixels = height * width;
  for (let i = 0; i < set.count; i++) {
    const src = set.images.subarray(i * inSize, (i + 1) * inSize);
    let img: Uint8Array = src;
    if (set.height !== height || set.width !== width) {
      resizeImage(src, set.height, set.width, set.channels, resized, height, width);
      img = resized;
    }
    const base = i * pixels * channels;
    if (set.channels === channels) {
      out.set(img.subarray(0, pixels * channels), base);
    } else if (set.channels === 1) {
      for (let p = 0; p < pixels; p++) {
        const v = img[p]!;
        out[base + 3 * p] = v;
        out[base + 3 * p + 1] = v;
        out[base + 3 * p + 2] = v;
      }
    } else {
      // ITU-R BT.601 luma, as PIL's convert('L').
      for (let p = 0; p < pixels; p++) {
        out[base + p] = Math.round(0.299 * img[3 * p]! + 0.587 * img[3 * p + 1]! + 0.114 * img[3 * p + 2]!);
      }
    }
  }
  return { images: out, labels: set.labels, count: set.count, height, width, channels };
}
