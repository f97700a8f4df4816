/**
 * Sweep expansion: every combination of the `sweep:` axes (dotted keys, each a list of values).
 * A map value is merged into the mapping at that key, so per-strategy settings travel together
 * (`adapter: [{name: source}, {name: dann, weight: 0.3}]`), unless it names something else than
 * the file's mapping does (another strategy): then it replaces it. Any other value replaces.
 * Combinations are ordered with the first axis varying slowest; `sweep:` may also be a list of such
 * grids (see expandSweep).
 */
import type { RawConfig } from './load.js';
import { setDotted } from './load.js';

export interface SweepPoint {
  /** The axis values of this combination, by dotted key. */
  overrides: Record<string, unknown>;
  raw: RawConfig;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function getDotted(config: RawConfig, key: string[]): unknown {
  let node: unknown = config;
  for (const part of key) {
    if (!isMapping(node)) return undefined;
    node = node[part];
  }
  return node;
}

/** One grid: every combination of its axes, the first axis varying slowest. */
function expandGrid(base: RawConfig, grid: Record<string, unknown[]>): SweepPoint[] {
  let points: SweepPoint[] = [{ overrides: {}, raw: base }];
  for (const [key, values] of Object.entries(grid)) {
    const path = key.split('.');
    const next: SweepPoint[] = [];
    for (const point of points) {
      for (const value of values) {
        const current = getDotted(point.raw, path);
        // A mapping that names something else (another strategy) starts afresh: the file's
        // settings of one strategy must not leak into another's.
        const renamed = isMapping(value) && isMapping(current) && value['name'] != null && value['name'] !== current['name'];
        const merged = isMapping(value) && isMapping(current) && !renamed ? { ...current, ...value } : value;
        next.push({ overrides: { ...point.overrides, [key]: value }, raw: setDotted(point.raw, path, merged) });
      }
    }
    points = next;
  }
  return points;
}

/**
 * `sweep:` is one grid (a mapping of axes) or a list of grids: the combinations of each grid in
 * turn, a combination that an earlier grid already produced counted once. A list expresses designs
 * that are not one product, e.g. unsupervised strategies at `target.labels: 0` and `joint` /
 * `finetune` at 10 labels per class in the same sweep.
 */
export function expandSweep(raw: RawConfig): SweepPoint[] {
  const { sweep, ...base } = raw as RawConfig & { sweep?: Record<string, unknown[]> | Record<string, unknown[]>[] };
  const grids = Array.isArray(sweep) ? sweep : [sweep ?? {}];
  const seen = new Set<string>();
  const points: SweepPoint[] = [];
  for (const grid of grids) {
    for (const point of expandGrid(base, grid)) {
      const key = JSON.stringify(point.raw);
      if (seen.has(key)) continue;
      seen.add(key);
      points.push(point);
    }
  }
  return points;
}
