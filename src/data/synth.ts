/**
 * `synth-digits`: house-number-like digit crops rendered from real fonts (the sim-to-real
 * source domain). Each image: a centre digit from one of the bundled font files (several families,
 * weights and italics), random size, position, rotation and skew, foreground / background colours
 * with a gradient, partial neighbouring digits at the sides, optional blur, and pixel noise.
 * Deterministic for a split: the same name always renders the same images. A rendered split is
 * kept in dalab's data cache, keyed by a hash of the renderer's code and font files (any change to
 * either renders afresh); DALAB_SYNTH_CACHE=0 always renders.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import opentype from 'opentype.js';
import { arc4Random } from './arc4.js';
import { dataRoot } from './cache.js';
import { writeFileAtomic } from '../util/files.js';
import { UserError, messages } from '../messages.js';
import { flattenPath, rasterize, type Affine, type Contour } from './raster.js';
import type { DomainSource, ImageSet } from './types.js';

const require = createRequire(import.meta.url);
const FONT_PACKAGES = ['@expo-google-fonts/roboto', '@expo-google-fonts/roboto-slab', '@expo-google-fonts/roboto-mono', '@expo-google-fonts/oswald'];

interface Glyph {
  contours: Contour[];
  /** Bounding box in em units (y down, as opentype.js paths). */
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
}

function listFontFiles(): string[] {
  const files: string[] = [];
  for (const pkg of FONT_PACKAGES) {
    let dir: string;
    try {
      dir = path.dirname(require.resolve(`${pkg}/package.json`));
    } catch {
      continue;
    }
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      for (const file of fs.readdirSync(path.join(dir, entry.name))) {
        if (file.endsWith('.ttf')) files.push(path.join(dir, entry.name, file));
      }
    }
  }
  return files.sort();
}

let glyphCache: Glyph[][] | null = null;

/** glyphs[font][digit], flattened once per process. */
function loadGlyphs(): Glyph[][] {
  if (glyphCache != null) return glyphCache;
  const files = listFontFiles();
  if (files.length === 0) throw new UserError(messages.noFontFiles());
  glyphCache = files.map((file) => {
    const buffer = fs.readFileSync(file);
    const font = opentype.parse(buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength));
    const glyphs: Glyph[] = [];
    for (let d = 0; d < 10; d++) {
      const contours = flattenPath(font.getPath(String(d), 0, 0, 1).commands);
      let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
      for (const c of contours) {
        for (let i = 0; i < c.length; i += 2) {
          minX = Math.min(minX, c[i]!);
          maxX = Math.max(maxX, c[i]!);
          minY = Math.min(minY, c[i + 1]!);
          maxY = Math.max(maxY, c[i + 1]!);
        }
      }
      glyphs.push({ contours, minX, maxX, minY, maxY });
    }
    return glyphs;
  });
  return glyphCache;
}

const SIZE = 32;

type Rng = () => number;

function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng();
}

function gaussian(rng: Rng): number {
  const u = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

function randomColour(rng: Rng): [number, number, number] {
  return [rng() * 255, rng() * 255, rng() * 255];
}

function luma(c: readonly number[]): number {
  return 0.299 * c[0]! + 0.587 * c[1]! + 0.114 * c[2]!;
}

/** Scratch buffer of renderDigit (rendering is single-threaded). */
const COVERAGE = new Float32Array(32 * 32);

/** Renders one 32x32 RGB crop of `digit` into `out` (3072 bytes). */
export function renderDigit(digit: number, rng: Rng, out: Uint8Array): void {
  const fonts = loadGlyphs();
  const font = fonts[Math.floor(rng() * fonts.length)]!;
  const glyph = font[digit]!;
  const coverage = COVERAGE.fill(0);

  // Geometry: glyph height as a fraction of the crop, rotation, shear, offset of the centre.
  const height = uniform(rng, 0.5, 0.85) * SIZE;
  const scale = height / (glyph.maxY - glyph.minY);
  const sx = scale * uniform(rng, 0.8, 1.2);
  const angle = uniform(rng, -0.26, 0.26);
  const shear = uniform(rng, -0.3, 0.3);
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const centreX = SIZE / 2 + uniform(rng, -2.5, 2.5);
  const centreY = SIZE / 2 + uniform(rng, -2.5, 2.5);
  const place = (g: Glyph, offsetX: number) => {
    const gx = (g.minX + g.maxX) / 2;
    const gy = (g.minY + g.maxY) / 2;
    // p' = R * Shear * S * (p - centre_glyph) + centre_crop + offset
    const a = sx, b = shear * scale, d = scale;
    const m: Affine = [cos * a, cos * b - sin * d, sin * a, sin * b + cos * d, 0, 0];
    m[4] = centreX + offsetX - (m[0] * gx + m[1] * gy);
    m[5] = centreY - (m[2] * gx + m[3] * gy);
    rasterize(g.contours, m, coverage, SIZE, SIZE);
  };
  place(glyph, 0);
  // Neighbouring digits of the same house number, partly visible at the sides.
  const spacing = (glyph.maxX - glyph.minX) * sx + uniform(rng, 1, 4);
  if (rng() < 0.6) place(font[Math.floor(rng() * 10)]!, -spacing);
  if (rng() < 0.6) place(font[Math.floor(rng() * 10)]!, spacing);

  // Optional blur of the coverage (3x3 binomial), as from defocus.
  if (rng() < 0.4) {
    const tmp = new Float32Array(coverage);
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        let sum = 0;
        let wsum = 0;
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const yy = y + dy, xx = x + dx;
            if (yy < 0 || yy >= SIZE || xx < 0 || xx >= SIZE) continue;
            const w = (dy === 0 ? 2 : 1) * (dx === 0 ? 2 : 1);
            sum += w * tmp[yy * SIZE + xx]!;
            wsum += w;
          }
        }
        coverage[y * SIZE + x] = sum / wsum;
      }
    }
  }

  // Colours: a foreground that stands out from a background gradient.
  let bg0 = randomColour(rng);
  let fg = randomColour(rng);
  for (let tries = 0; tries < 20 && Math.abs(luma(fg) - luma(bg0)) < 60; tries++) {
    bg0 = randomColour(rng);
    fg = randomColour(rng);
  }
  const bg1 = bg0.map((v) => Math.min(255, Math.max(0, v + uniform(rng, -50, 50)))) as [number, number, number];
  const gradAngle = uniform(rng, 0, 2 * Math.PI);
  const gx = Math.cos(gradAngle) / SIZE;
  const gy = Math.sin(gradAngle) / SIZE;
  const noise = uniform(rng, 0, 12);
  // Low-frequency texture: a few random sinusoids.
  const texAmp = uniform(rng, 0, 15);
  const fx = uniform(rng, 0.1, 0.6), fyq = uniform(rng, 0.1, 0.6), phase = uniform(rng, 0, 6.28);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const t = Math.min(1, Math.max(0, 0.5 + (x - SIZE / 2) * gx + (y - SIZE / 2) * gy));
      const alpha = Math.min(1, coverage[y * SIZE + x]!);
      const tex = texAmp * Math.sin(fx * x + fyq * y + phase);
      for (let k = 0; k < 3; k++) {
        const back = bg0[k]! * (1 - t) + bg1[k]! * t + tex;
        const v = back * (1 - alpha) + fg[k]! * alpha + noise * gaussian(rng);
        out[(y * SIZE + x) * 3 + k] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
      }
    }
  }
}

/** Renders `count` crops with balanced labels, deterministic for `seed`. */
export function renderSet(count: number, seed: string): ImageSet {
  // Exactly seedrandom(seed)'s numbers, faster (arc4.ts).
  const rng = arc4Random(seed);
  const images = new Uint8Array(count * SIZE * SIZE * 3);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const digit = i % 10;
    labels[i] = digit;
    renderDigit(digit, rng, images.subarray(i * SIZE * SIZE * 3, (i + 1) * SIZE * SIZE * 3));
  }
  return { images, labels, count, height: SIZE, width: SIZE, channels: 3 };
}

export const SYNTH_SIZES = { train: 12000, val: 1000, test: 2000 } as const;

let rendererHashCache: string | null = null;

/** What the rendered images depend on: this module, the rasteriser, the random numbers, the fonts (once per process). */
function rendererHash(): string {
  if (rendererHashCache != null) return rendererHashCache;
  const hash = createHash('sha256');
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const file of ['synth.js', 'raster.js', 'arc4.js']) hash.update(fs.readFileSync(path.join(here, file)));
  for (const file of listFontFiles()) hash.update(path.basename(file)).update(fs.readFileSync(file));
  rendererHashCache = hash.digest('hex').slice(0, 16);
  return rendererHashCache;
}

/**
 * renderSet's images, read from the data cache when this renderer has written them before
 * (written there otherwise: atomically, and a cache that cannot be written is only not used).
 */
export function cachedRenderSet(count: number, seed: string, env: NodeJS.ProcessEnv = process.env): ImageSet {
  if (env['DALAB_SYNTH_CACHE'] === '0') return renderSet(count, seed);
  const bytes = count * SIZE * SIZE * 3;
  const file = path.join(dataRoot(env), 'synth-digits', `${seed.replace(/[^A-Za-z0-9.-]/g, '_')}-${count}-${rendererHash()}.u8`);
  if (fs.existsSync(file) && fs.statSync(file).size === bytes) {
    const images = new Uint8Array(fs.readFileSync(file));
    return { images, labels: Int32Array.from({ length: count }, (_, i) => i % 10), count, height: SIZE, width: SIZE, channels: 3 };
  }
  const set = renderSet(count, seed);
  try {
    writeFileAtomic(file, set.images);
  } catch {
    // A cache that cannot be written is only not used.
  }
  return set;
}

export function loadSynthDigits(): DomainSource {
  return {
    name: 'synth-digits',
    numClasses: 10,
    train: cachedRenderSet(SYNTH_SIZES.train, 'synth-digits/v1/train'),
    val: cachedRenderSet(SYNTH_SIZES.val, 'synth-digits/v1/val'),
    test: cachedRenderSet(SYNTH_SIZES.test, 'synth-digits/v1/test'),
  };
}
