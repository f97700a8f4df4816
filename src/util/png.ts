/** A minimal PNG encoder (8-bit greyscale or RGB, no filtering) on node:zlib. */
import * as zlib from 'node:zlib';

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  Buffer.from(data).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

export function encodePng(pixels: Uint8Array, width: number, height: number, channels: 1 | 3): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = channels === 1 ? 0 : 2;
  const stride = width * channels;
  const raw = Buffer.alloc(height * (stride + 1));
  for (let y = 0; y < height; y++) Buffer.from(pixels.buffer, pixels.byteOffset + y * stride, stride).copy(raw, y * (stride + 1) + 1);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** Tiles `count` images (NHWC bytes) into a grid of `columns`, scaled up by an integer factor. */
export function imageGrid(images: Uint8Array, count: number, h: number, w: number, c: 1 | 3, columns: number, scale = 1): { pixels: Uint8Array; width: number; height: number } {
  const rows = Math.ceil(count / columns);
  const gap = 1;
  const width = columns * (w * scale + gap) + gap;
  const height = rows * (h * scale + gap) + gap;
  const pixels = new Uint8Array(width * height * c).fill(255);
  for (let i = 0; i < count; i++) {
    const ox = gap + (i % columns) * (w * scale + gap);
    const oy = gap + Math.floor(i / columns) * (h * scale + gap);
    for (let y = 0; y < h * scale; y++) {
      for (let x = 0; x < w * scale; x++) {
        const src = (i * h * w + Math.floor(y / scale) * w + Math.floor(x / scale)) * c;
        const dst = ((oy + y) * width + ox + x) * c;
        for (let k = 0; k < c; k++) pixels[dst + k] = images[src + k]!;
      }
    }
  }
  return { pixels, width, height };
}
