/** Method comparison: mean target accuracy per method, 95% CI bars, the lower bound and the oracle as reference lines. */
import type { SummaryRow } from '../aggregate.js';
import type { MethodRoles } from '../roles.js';
import { WIDTH, type Column } from '../theme.js';
import { drawn, type FigureKind } from './registry.js';
import { ACC_AXIS, ACC_TITLE, panelOf, panels, pct, pctCi, top, type Channel, type Figure, type Layer, type MeanRow } from './shared.js';

export function comparisonFigure(summary: readonly MeanRow[], column: Column, roles: MethodRoles): Figure {
  const values = summary.map((r) => ({
    panel: panelOf(r.benchmark, r.setting),
    method: r.method,
    n: r.n,
    std: pct(r.std),
    ...pctCi(r),
  }));
  const order = roles.order(values.map((v) => v.method));
  const x: Channel<'x'> = { field: 'method', type: 'nominal', sort: order, title: 'strategy', axis: { labelAngle: -35 } };
  const color: Channel<'color'> = { field: 'method', type: 'nominal', sort: order, legend: null };
  const tooltip = [
    { field: 'method', title: 'strategy' },
    { field: 'mean', title: 'mean (%)', format: '.2f' },
    { field: 'std', title: 'std (%)', format: '.2f' },
    { field: 'ciLow', title: '95% CI low', format: '.2f' },
    { field: 'ciHigh', title: '95% CI high', format: '.2f' },
    { field: 'n', title: 'seeds' },
  ];
  const layer: Layer = {
    layer: [
      { transform: [{ filter: roles.filter('lower-bound') }], mark: { type: 'rule', strokeDash: [4, 3], color: '#555', strokeWidth: 1 }, encoding: { y: { field: 'mean', type: 'quantitative' } } },
      { transform: [{ filter: roles.filter('oracle') }], mark: { type: 'rule', strokeDash: [1, 2], color: '#009E73', strokeWidth: 1.2 }, encoding: { y: { field: 'mean', type: 'quantitative' } } },
      {
        mark: { type: 'rule', strokeWidth: 1.2 },
        encoding: { x, y: { field: 'ciLow', type: 'quantitative', title: ACC_TITLE, scale: { zero: false }, axis: ACC_AXIS }, y2: { field: 'ciHigh' }, color },
      },
      {
        mark: { type: 'point', filled: true, size: 50 },
        encoding: { x, y: { field: 'mean', type: 'quantitative' }, color, tooltip },
      },
    ],
  };
  const lower = roles.named('lower-bound').filter((m) => order.includes(m));
  const oracle = roles.named('oracle').filter((m) => order.includes(m));
  const lines = [lower.length > 0 ? `dashed: ${lower.join(', ')} only` : '', oracle.length > 0 ? `dotted: ${oracle.join(', ')} oracle` : ''].filter((x) => x !== '').join('; ');
  return {
    name: 'comparison',
    title: 'Method comparison',
    caption: `Mean target test accuracy over seeds; bars are 95% Student-t confidence intervals. Dashed line: ${roles.label('lower-bound')} only; dotted line: ${roles.label('oracle')} (oracle trained on labelled target), when run.`,
    spec: top('Target accuracy per strategy', ['mean over seeds, 95% CI', lines].filter((x) => x !== ''), panels(values, layer, Math.max(WIDTH[column], 28 * order.length), 170)),
    rows: values.length,
  };
}

export const comparison: FigureKind<readonly SummaryRow[]> = {
  name: 'comparison',
  gather: (context) => drawn(context.summary),
  build: (summary, context) => comparisonFigure(summary, context.column, context.roles),
};
