/**
 * Method comparison: mean target accuracy per method with its interval (95% CI, or the seeds'
 * range and the seeds as points below 3 seeds), the lower bound and the oracle as reference lines.
 */
import type { SummaryRow } from '../aggregate.js';
import type { MethodRoles } from '../roles.js';
import { PERCENT_FORMAT } from '../format.js';
import { WIDTH, type Column } from '../theme.js';
import { drawn, type FigureKind } from './registry.js';
import { IS_MEAN, intervalRule, panelOf, panels, pct, seedPointsLayer, seedRows, spread, spreadNote, spreadTooltip, top, zoomedScale, type Channel, type Figure, type Layer, type MeanRow } from './shared.js';

export function comparisonFigure(summary: readonly MeanRow[], column: Column, roles: MethodRoles): Figure {
  const means = summary.map((r) => ({
    kind: 'mean' as const,
    panel: panelOf(r.benchmark, r.setting),
    method: r.method,
    std: pct(r.std),
    ...spread(r.values),
  }));
  const seeds = summary.flatMap((r) => seedRows({ panel: panelOf(r.benchmark, r.setting), method: r.method }, r.values, r.seeds));
  const values = [...means, ...seeds];
  const order = roles.order(means.map((v) => v.method));
  const x: Channel<'x'> = { field: 'method', type: 'nominal', sort: order, title: 'strategy', axis: { labelAngle: -35 } };
  const color: Channel<'color'> = { field: 'method', type: 'nominal', sort: order, legend: null };
  const reference = (role: 'lower-bound' | 'oracle') => `${IS_MEAN} && ${roles.filter(role)}`;
  const layer: Layer = {
    layer: [
      { transform: [{ filter: reference('lower-bound') }], mark: { type: 'rule', strokeDash: [4, 3], color: '#555', strokeWidth: 1 }, encoding: { y: { field: 'mean', type: 'quantitative' } } },
      { transform: [{ filter: reference('oracle') }], mark: { type: 'rule', strokeDash: [1, 2], color: '#009E73', strokeWidth: 1.2 }, encoding: { y: { field: 'mean', type: 'quantitative' } } },
      intervalRule(x, color, zoomedScale(values)),
      seedPointsLayer(x, color),
      {
        transform: [{ filter: IS_MEAN }],
        mark: { type: 'point', filled: true, size: 50 },
        encoding: { x, y: { field: 'mean', type: 'quantitative' }, color, tooltip: [...spreadTooltip([{ field: 'method', title: 'strategy' }]), { field: 'std', title: 'std (%)', format: PERCENT_FORMAT }] },
      },
    ],
  };
  const lower = roles.named('lower-bound').filter((m) => order.includes(m));
  const oracle = roles.named('oracle').filter((m) => order.includes(m));
  const lines = [lower.length > 0 ? `dashed: ${lower.join(', ')} only` : '', oracle.length > 0 ? `dotted: ${oracle.join(', ')} oracle` : ''].filter((x) => x !== '').join('; ');
  return {
    name: 'comparison',
    title: 'Method comparison',
    caption: `Mean target test accuracy over seeds; bars are 95% Student-t confidence intervals (with fewer than 3 seeds: the seeds' range, the seeds drawn as points), clipped to [0, 100]. Dashed line: ${roles.label('lower-bound')} only; dotted line: ${roles.label('oracle')} (oracle trained on labelled target), when run.`,
    spec: top('Target accuracy per strategy', [spreadNote(means, 'bars'), lines].filter((x) => x !== ''), panels(values, layer, Math.max(WIDTH[column], 28 * order.length), 170)),
    rows: values.length,
  };
}

export const comparison: FigureKind<readonly SummaryRow[]> = {
  name: 'comparison',
  gather: (context) => drawn(context.summary),
  build: (summary, context) => comparisonFigure(summary, context.column, context.roles),
};
