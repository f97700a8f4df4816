/**
 * Paired differences to the lower bound: for each method, its per-seed difference in target
 * accuracy to `source` run with the same seed (points), their mean and 95% Student-t interval,
 * the interval of the paired t-test in the tables (mean ± t(0.975, n-1) · sd / √n; with fewer
 * than 3 pairs the range of the differences), and a zero line. One panel per benchmark and
 * setting. What a paired design shows and an unpaired comparison hides: a method above its
 * reference on every seed.
 */
import type { PairedRow } from '../aggregate.js';
import type { MethodRoles } from '../roles.js';
import { WIDTH, type Column } from '../theme.js';
import { drawn, notDrawn, type FigureKind } from './registry.js';
import { IS_MEAN, IS_SEED, panelOf, panels, spread, spreadNote, spreadTooltip, top, zoomedScale, type Channel, type Figure, type Layer } from './shared.js';
import { PERCENT_FORMAT, percent } from '../format.js';

/** `colors`: the methods in the order the other figures colour them (the lower bound included), so a method keeps its colour. */
export function pairedDifferenceFigure(paired: readonly PairedRow[], column: Column, roles: MethodRoles, colors: readonly string[] = []): Figure {
  const baseline = roles.label('lower-bound');
  const means = paired.map((r) => ({ kind: 'mean' as const, panel: panelOf(r.benchmark, r.setting), method: r.method, ...spread(r.diffs, -100, 100) }));
  const seeds = paired.flatMap((r) => r.diffs.map((d, i) => ({ kind: 'seed' as const, panel: panelOf(r.benchmark, r.setting), method: r.method, seed: r.seeds[i]!, value: percent(d) })));
  const values = [...means, ...seeds];
  const order = roles.order(means.map((m) => m.method));
  const scale = zoomedScale([...values, { value: 0 }], -100, 100);
  // Short enough to fit beside a 170-pixel panel (a longer axis title pushes the panels apart).
  const title = `Δ accuracy vs ${baseline} (pp)`;
  const x: Channel<'x'> = { field: 'method', type: 'nominal', sort: order, title: 'strategy', axis: { labelAngle: -35 } };
  const domain = [...colors, ...order.filter((m) => !colors.includes(m))];
  const color: Channel<'color'> = { field: 'method', type: 'nominal', sort: order, legend: null, scale: { domain } };
  const layer: Layer = {
    layer: [
      // One zero line per panel (the aggregate leaves one row).
      { transform: [{ aggregate: [{ op: 'count', as: 'rows' }] }], mark: { type: 'rule', color: '#555', strokeWidth: 1 }, encoding: { y: { datum: 0, type: 'quantitative', scale, title } } },
      { transform: [{ filter: IS_MEAN }], mark: { type: 'rule', strokeWidth: 1.4 }, encoding: { x, y: { field: 'low', type: 'quantitative', title }, y2: { field: 'high' }, color } },
      {
        transform: [{ filter: IS_SEED }],
        mark: { type: 'point', filled: false, size: 30, opacity: 0.9 },
        encoding: { x, y: { field: 'value', type: 'quantitative', title }, color, tooltip: [{ field: 'method', title: 'strategy' }, { field: 'seed' }, { field: 'value', title: `Δ vs ${baseline} (pp)`, format: PERCENT_FORMAT }] },
      },
      { transform: [{ filter: IS_MEAN }], mark: { type: 'tick', thickness: 2, size: 18 }, encoding: { x, y: { field: 'mean', type: 'quantitative', title }, color, tooltip: spreadTooltip([{ field: 'method', title: 'strategy' }]) } },
    ],
  };
  return {
    name: 'paired_difference',
    title: `Paired difference to ${baseline}`,
    caption: `Per-seed difference in target test accuracy (percentage points) between each method and ${baseline} run with the same seed (points), with the mean (tick) and the 95% interval of the paired t-test in the tables (with fewer than 3 seeds: the range of the differences). Above the zero line: better than ${baseline} on that seed.`,
    spec: top(`Paired difference to ${baseline}`, [spreadNote(means, 'bars').replace('mean over seeds', 'mean of the per-seed differences'), 'points: seeds; line: no difference'], panels(values, layer, Math.max(WIDTH[column], 28 * order.length), 170)),
    rows: values.length,
  };
}

export const pairedDifference: FigureKind<readonly PairedRow[]> = {
  name: 'paired_difference',
  gather: ({ paired, roles }) => (paired.length > 0 ? drawn(paired) : notDrawn(`paired differences: no method shares seeds with a ${roles.label('lower-bound')} run of its benchmark and setting`)),
  build: (paired, context) => pairedDifferenceFigure(paired, context.column, context.roles, context.roles.order(context.summary.map((r) => r.method))),
};
