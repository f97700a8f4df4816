/**
 * `mnist-m` (procedural): the MNIST-M construction of Ganin et al. 2016 ("Domain-Adversarial
 * Training of Neural Networks", section 5.1.1) on mnist-10k. Each digit is blended over a 28x28
 * colour patch taken at random from a texture: every output byte is |patch - digit| per channel,
 * so the strokes invert the patch's colours. The original draws its patches from BSDS500
 * photographs, which cannot ship here; dalab renders its own textures instead (value noise,
 * gradients, stripes, blobs and plaids in random colours, two layers blended, with per-pixel grain), deterministically and
 * with exact arithmetic only (+, -, *, /, floor, sqrt: no Math.sin or Math.exp, whose last bits may
 * differ between platforms), so every machine renders the same bytes.
 *
 * Splits: train / val / test are mnist-10k's, image for image (the same digits and labels, in the
 * same order). 28x28x3.
 */
import { arc4Random } from './arc4.js';
import { loadMnist10k } from './mnist10k.js';
import type { DomainSource, ImageSet } from './types.js';

type Rng = () => number;

const SIZE = 28;
/** Side of a texture; a patch is taken at a random position inside it. */
const TEXTURE = 96;
/** Textures in the bank (each image picks one). */
const TEXTURES = 200;

type Colour = [number, number, number];

/**
 * A colour as photographs have them: a brightness, then channels within +-50 of it (independent
 * uniform channels would crowd every colour's brightness near mid-grey, where |patch - digit| leaves
 * strokes and background almost the same brightness).
 */
const randomColour = (rng: Rng): Colour => {
  const brightness = rng() * 255;
  const channel = () => Math.min(255, Math.max(0, brightness + (rng() - 0.5) * 100));
  return [channel(), channel(), channel()];
};

/** Smoothstep, a polynomial: t^2 (3 - 2t). */
const smooth = (t: number): number => t * t * (3 - 2 * t);

/** A triangle wave in [0, 1] of period 1 (in place of a sine: exact arithmetic). */
const triangle = (v: number): number => {
  const f = v - Math.floor(v);
  return f < 0.5 ? 2 * f : 2 - 2 * f;
};

/** One texture layer: a value in [0, 1] per pixel, row-major TEXTURE x TEXTURE. */
function layer(rng: Rng): Float64Array {
  const out = new Float64Array(TEXTURE * TEXTURE);
  const kind = Math.floor(rng() * 5);
  if (kind === 0) {
    // Value noise: a random grid of `cells` x `cells` values, smoothly interpolated; two octaves.
    const octaves = [Math.floor(2 + rng() * 6), Math.floor(12 + rng() * 36)];
    const weight = 0.5 + rng() * 0.4;
    octaves.forEach((cells, o) => {
      const grid = Float64Array.from({ length: (cells + 1) * (cells + 1) }, () => rng());
      const w = o === 0 ? weight : 1 - weight;
      for (let y = 0; y < TEXTURE; y++) {
        const gy = (y / TEXTURE) * cells;
        const y0 = Math.floor(gy);
        const ty = smooth(gy - y0);
        for (let x = 0; x < TEXTURE; x++) {
          const gx = (x / TEXTURE) * cells;
          const x0 = Math.floor(gx);
          const tx = smooth(gx - x0);
          const a = grid[y0 * (cells + 1) + x0]!;
          const b = grid[y0 * (cells + 1) + x0 + 1]!;
          const c = grid[(y0 + 1) * (cells + 1) + x0]!;
          const d = grid[(y0 + 1) * (cells + 1) + x0 + 1]!;
          out[y * TEXTURE + x]! += w * (a + (b - a) * tx + (c - a) * ty + (a - b - c + d) * tx * ty);
        }
      }
    });
  } else if (kind === 1) {
    // A linear gradient in a random direction (a direction vector, normalised with sqrt).
    let dx = rng() * 2 - 1;
    let dy = rng() * 2 - 1;
    const n = Math.sqrt(dx * dx + dy * dy) || 1;
    dx /= n;
    dy /= n;
    for (let y = 0; y < TEXTURE; y++) {
      for (let x = 0; x < TEXTURE; x++) out[y * TEXTURE + x] = Math.min(1, Math.max(0, 0.5 + ((x - TEXTURE / 2) * dx + (y - TEXTURE / 2) * dy) / TEXTURE));
    }
  } else if (kind === 2 || kind === 3) {
    // Stripes (kind 2) or a plaid of two stripe sets (kind 3): triangle waves along random directions.
    const sets = kind === 2 ? 1 : 2;
    for (let s = 0; s < sets; s++) {
      const fx = (rng() * 2 - 1) * (3 + rng() * 27);
      const fy = (rng() * 2 - 1) * (3 + rng() * 27);
      const phase = rng();
      for (let y = 0; y < TEXTURE; y++) {
        for (let x = 0; x < TEXTURE; x++) out[y * TEXTURE + x]! += triangle((x * fx + y * fy) / TEXTURE + phase) / sets;
      }
    }
  } else {
    // Blobs: a base of 0 with soft discs, each falling off as 1 / (1 + d^2 / r^2)^2.
    const blobs = Math.floor(3 + rng() * 12);
    for (let b = 0; b < blobs; b++) {
      const cx = rng() * TEXTURE;
      const cy = rng() * TEXTURE;
      const r = 3 + rng() * 20;
      const v = rng();
      for (let y = 0; y < TEXTURE; y++) {
        for (let x = 0; x < TEXTURE; x++) {
          const q = 1 / (1 + ((x - cx) * (x - cx) + (y - cy) * (y - cy)) / (r * r));
          const i = y * TEXTURE + x;
          out[i] = out[i]! + (v - out[i]!) * q * q;
        }
      }
    }
  }
  return out;
}

/** One colour texture: two layers, each mapped between two random colours, blended. */
function texture(rng: Rng): Uint8Array {
  const out = new Uint8Array(TEXTURE * TEXTURE * 3);
  const a = layer(rng);
  const b = layer(rng);
  const colours = [randomColour(rng), randomColour(rng), randomColour(rng), randomColour(rng)] as const;
  const mix = 0.2 + rng() * 0.6;
  // Grain: per-pixel noise of up to +-grain/2 in each channel (photographs are never smooth).
  const grain = rng() * 30;
  for (let p = 0; p < TEXTURE * TEXTURE; p++) {
    const u = Math.min(1, Math.max(0, a[p]!));
    const v = Math.min(1, Math.max(0, b[p]!));
    for (let c = 0; c < 3; c++) {
      const first = colours[0][c] + (colours[1][c] - colours[0][c]) * u;
      const second = colours[2][c] + (colours[3][c] - colours[2][c]) * v;
      out[3 * p + c] = Math.min(255, Math.max(0, Math.round(first + (second - first) * mix + (rng() - 0.5) * grain)));
    }
  }
  return out;
}

let bank: Uint8Array[] | null = null;

/** The texture bank, rendered once per process (the same bytes everywhere). */
export function textureBank(): Uint8Array[] {
  if (bank != null) return bank;
  const rng = arc4Random('mnist-m/v1/textures');
  bank = Array.from({ length: TEXTURES }, () => texture(rng));
  return bank;
}

/**
 * MNIST-M images of a grey digit set: image i is |patch - digit| with the patch drawn (texture,
 * position) from `seed`'s random numbers, in order.
 */
export function blendSet(digits: ImageSet, seed: string): ImageSet {
  if (digits.channels !== 1 || digits.height !== SIZE || digits.width !== SIZE) throw new Error(`mnist-m blends 28x28 grey digits, got ${digits.height}x${digits.width}x${digits.channels}`);
  const textures = textureBank();
  const rng = arc4Random(seed);
  const pixels = SIZE * SIZE;
  const images = new Uint8Array(digits.count * pixels * 3);
  for (let i = 0; i < digits.count; i++) {
    const t = textures[Math.floor(rng() * TEXTURES)]!;
    const x0 = Math.floor(rng() * (TEXTURE - SIZE + 1));
    const y0 = Math.floor(rng() * (TEXTURE - SIZE + 1));
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const d = digits.images[i * pixels + y * SIZE + x]!;
        const src = ((y0 + y) * TEXTURE + x0 + x) * 3;
        const dst = (i * pixels + y * SIZE + x) * 3;
        for (let c = 0; c < 3; c++) images[dst + c] = Math.abs(t[src + c]! - d);
      }
    }
  }
  return { images, labels: digits.labels.slice(), count: digits.count, height: SIZE, width: SIZE, channels: 3 };
}

export function loadMnistM(): DomainSource {
  const mnist = loadMnist10k();
  return {
    name: 'mnist-m',
    numClasses: 10,
    train: blendSet(mnist.train, 'mnist-m/v1/train'),
    val: blendSet(mnist.val!, 'mnist-m/v1/val'),
    test: blendSet(mnist.test, 'mnist-m/v1/test'),
  };
}
