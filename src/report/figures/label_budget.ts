/** Label-budget curve: target accuracy against labelled target images per class, a line per method. */
import { summariseBy } from '../aggregate.js';
import type { MethodRoles } from '../roles.js';
import { WIDTH, type Column } from '../theme.js';
import { drawn, notDrawn, type FigureKind } from './registry.js';
import { ACC_TITLE, IS_MEAN, byBudget, intervalRule, panels, seedPointsLayer, seedRows, spread, spreadNote, spreadTooltip, top, zoomedScale, type Channel, type Figure, type Layer, type MeanRow } from './shared.js';

export interface BudgetRow extends MeanRow {
  labels: string;
}

export function labelBudgetFigure(rows: readonly BudgetRow[], column: Column, roles: MethodRoles): Figure {
  const order = [...new Set(rows.map((r) => r.labels))].sort(byBudget);
  const tick = (l: string) => (l === '0' ? '0 (unsup.)' : l);
  const means = rows.map((r) => ({
    kind: 'mean' as const,
    panel: r.benchmark,
    method: r.method,
    labels: tick(r.labels),
    ...spread(r.values),
  }));
  const seeds = rows.flatMap((r) => seedRows({ panel: r.benchmark, method: r.method, labels: tick(r.labels) }, r.values, r.seeds));
  const values = [...means, ...seeds];
  const methods = roles.order(means.map((v) => v.method).filter((m) => roles.of(m) !== 'oracle'));
  const x: Channel<'x'> = { field: 'labels', type: 'ordinal', sort: order.map(tick), title: 'labelled target images per class', axis: { labelAngle: 0 } };
  const color: Channel<'color'> = { field: 'method', type: 'nominal', sort: methods, title: 'strategy' };
  const notOracle = roles.filter('oracle', true);
  const layer: Layer = {
    layer: [
      { transform: [{ filter: `${IS_MEAN} && ${roles.filter('oracle')}` }], mark: { type: 'rule', strokeDash: [1, 2], color: '#009E73', strokeWidth: 1.2 }, encoding: { y: { aggregate: 'mean', field: 'mean', type: 'quantitative' } } },
      intervalRule(x, color, zoomedScale(values), ACC_TITLE, `${IS_MEAN} && ${notOracle}`),
      seedPointsLayer(x, color, notOracle),
      { transform: [{ filter: `${IS_MEAN} && ${notOracle}` }], mark: { type: 'line', point: { filled: true, size: 36 } }, encoding: { x, y: { field: 'mean', type: 'quantitative' }, color, tooltip: spreadTooltip([{ field: 'method', title: 'strategy' }, { field: 'labels', title: 'labels per class' }]) } },
    ],
  };
  const oracle = roles.named('oracle').filter((m) => rows.some((r) => r.method === m));
  return {
    name: 'label_budget',
    title: 'Label budget',
    caption: `Target test accuracy against the number of labelled target images per class (0: unsupervised); mean over seeds, 95% CI (with fewer than 3 seeds: the seeds' range, the seeds as points). Dotted line: the ${roles.label('oracle')} oracle (all target labels), when run.`,
    spec: top('Accuracy against target label budget', [`${spreadNote(means.filter((m) => roles.of(m.method) !== 'oracle'), 'bars')}; 0 = unsupervised`, ...(oracle.length > 0 ? [`dotted: ${oracle.join(', ')} oracle`] : [])], panels(values, layer, WIDTH[column], 170)),
    rows: values.length,
  };
}

export const labelBudget: FigureKind<BudgetRow[]> = {
  name: 'label_budget',
  gather({ rows }) {
    // A curve needs a strategy (other than the lower bound, which ignores labels) at two label budgets or more.
    const budgetsOf = (method: string) => new Set(rows.filter((r) => r.method === method).map((r) => r.labels)).size;
    if (!rows.some((r) => r.role !== 'lower-bound' && budgetsOf(r.method) > 1)) return notDrawn('label-budget curve: no strategy ran at more than one target.labels (sweep target.labels to draw it)');
    return drawn(summariseBy(rows, ['benchmark', 'method', 'labels', 'adapter']).map((r) => ({ ...r, setting: '' })));
  },
  build: (budget, context) => labelBudgetFigure(budget, context.column, context.roles),
};
