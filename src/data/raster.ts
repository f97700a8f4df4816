/**
 * A small anti-aliased polygon rasteriser (non-zero winding, supersampled scanlines), enough to
 * render font glyphs into digit crops without a canvas library.
 */

/** A closed polygon, x/y interleaved. */
export type Contour = Float64Array;

/** Flattens a glyph outline (M/L/Q/C/Z commands) into polygons. */
export function flattenPath(commands: readonly { type: string; x?: number; y?: number; x1?: number; y1?: number; x2?: number; y2?: number }[], segments = 6): Contour[] {
  const contours: Contour[] = [];
  let points: number[] = [];
  let cx = 0;
  let cy = 0;
  const close = () => {
    if (points.length >= 6) contours.push(Float64Array.from(points));
    points = [];
  };
  for (const c of commands) {
    switch (c.type) {
      case 'M':
        close();
        cx = c.x!;
        cy = c.y!;
        points.push(cx, cy);
        break;
      case 'L':
        cx = c.x!;
        cy = c.y!;
        points.push(cx, cy);
        break;
      case 'Q':
        for (let i = 1; i <= segments; i++) {
          const t = i / segments;
          const u = 1 - t;
          points.push(u * u * cx + 2 * u * t * c.x1! + t * t * c.x!, u * u * cy + 2 * u * t * c.y1! + t * t * c.y!);
        }
        cx = c.x!;
        cy = c.y!;
        break;
      case 'C':
        for (let i = 1; i <= segments; i++) {
          const t = i / segments;
          const u = 1 - t;
          points.push(
            u * u * u * cx + 3 * u * u * t * c.x1! + 3 * u * t * t * c.x2! + t * t * t * c.x!,
            u * u * u * cy + 3 * u * u * t * c.y1! + 3 * u * t * t * c.y2! + t * t * t * c.y!,
          );
        }
        cx = c.x!;
        cy = c.y!;
        break;
      case 'Z':
        close();
        break;
      default:
        break;
    }
  }
  close();
  return contours;
}

/** Affine map [a, b, c, d, e, f]: x' = a x + b y + e, y' = c x + d y + f. */
export type Affine = [number, number, number, number, number, number];

/**
 * Adds the coverage (0..1) of the transformed polygons to `coverage` (height x width floats),
 * sampling `ss` x `ss` points per pixel.
 */
export function rasterize(contours: readonly Contour[], m: Affine, coverage: Float32Array, width: number, height: number, ss = 4): void {
  // Transform to device space once; collect non-horizontal edges.
  const edges: number[] = []; // x0, y0, x1, y1, dir
  for (const contour of contours) {
    const n = contour.length / 2;
    for (let i = 0; i < n; i++) {
      const j = (i + 1) % n;
      const x0 = m[0] * contour[2 * i]! + m[1] * contour[2 * i + 1]! + m[4];
      const y0 = m[2] * contour[2 * i]! + m[3] * contour[2 * i + 1]! + m[5];
      const x1 = m[0] * contour[2 * j]! + m[1] * contour[2 * j + 1]! + m[4];
      const y1 = m[2] * contour[2 * j]! + m[3] * contour[2 * j + 1]! + m[5];
      if (y0 === y1) continue;
      if (y0 < y1) edges.push(x0, y0, x1, y1, 1);
      else edges.push(x1, y1, x0, y0, -1);
    }
  }
  const numEdges = edges.length / 5;
  if (numEdges === 0) return;
  // Only the sample rows the edges span (the others have no crossings).
  let minY = Infinity;
  let maxY = -Infinity;
  for (let e = 0; e < numEdges; e++) {
    if (edges[5 * e + 1]! < minY) minY = edges[5 * e + 1]!;
    if (edges[5 * e + 3]! > maxY) maxY = edges[5 * e + 3]!;
  }
  const first = Math.max(0, Math.floor(minY * ss - 0.5));
  const last = Math.min(height * ss, Math.ceil(maxY * ss + 0.5));
  const xs: number[] = [];
  const dirs: number[] = [];
  const order: number[] = [];
  const weight = 1 / (ss * ss);
  for (let sy = first; sy < last; sy++) {
    const y = (sy + 0.5) / ss;
    xs.length = 0;
    dirs.length = 0;
    for (let e = 0; e < numEdges; e++) {
      const y0 = edges[5 * e + 1]!;
      const y1 = edges[5 * e + 3]!;
      if (y < y0 || y >= y1) continue;
      const x0 = edges[5 * e]!;
      const x1 = edges[5 * e + 2]!;
      xs.push(x0 + ((y - y0) / (y1 - y0)) * (x1 - x0));
      dirs.push(edges[5 * e + 4]!);
    }
    if (xs.length < 2) continue;
    // Indices by crossing x: a stable insertion sort (few crossings per row).
    order.length = 0;
    for (let i = 0; i < xs.length; i++) {
      let k = i;
      while (k > 0 && xs[order[k - 1]!]! > xs[i]!) {
        order[k] = order[k - 1]!;
        k--;
      }
      order[k] = i;
    }
    const row = Math.floor(sy / ss) * width;
    let winding = 0;
    for (let k = 0; k < order.length - 1; k++) {
      winding += dirs[order[k]!]!;
      if (winding === 0) continue;
      // Fill sample columns whose centres lie in [xa, xb).
      const xa = xs[order[k]!]!;
      const xb = xs[order[k + 1]!]!;
      let sx0 = Math.ceil(xa * ss - 0.5);
      let sx1 = Math.ceil(xb * ss - 0.5);
      if (sx0 < 0) sx0 = 0;
      if (sx1 > width * ss) sx1 = width * ss;
      for (let sx = sx0; sx < sx1; sx++) coverage[row + ((sx / ss) | 0)] += weight;
    }
  }
}
