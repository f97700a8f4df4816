/** Learning curves: target accuracy against step, mean line and 95% CI band per method. */
import type { RunRow } from '../aggregate.js';
import type { ReportContext } from '../context.js';
import type { ReportRun } from '../runs.js';
import { MethodRoles } from '../roles.js';
import { ci95HalfWidth, mean } from '../stats.js';
import { WIDTH, type Column } from '../theme.js';
import { drawn, notDrawn, type FigureKind } from './registry.js';
import { ACC_AXIS, ACC_TITLE, panelOf, panels, pctCi, top, type Channel, type Figure, type Layer } from './shared.js';

export interface CurvePoint {
  benchmark: string;
  setting: string;
  method: string;
  step: number;
  mean: number;
  ciLow: number;
  ciHigh: number;
  n: number;
}

/** The figure; the run's own learning curve (./run-figures.ts) draws splits instead of methods. */
export function learningCurveFigure(points: readonly CurvePoint[], column: Column, roles: MethodRoles = new MethodRoles(), metricTitle = ACC_TITLE, colorTitle = 'strategy'): Figure {
  const values = points.map((p) => ({
    panel: panelOf(p.benchmark, p.setting),
    method: p.method,
    step: p.step,
    n: p.n,
    ...pctCi(p),
  }));
  const order = roles.order(values.map((v) => v.method));
  const color: Channel<'color'> = { field: 'method', type: 'nominal', sort: order, title: colorTitle };
  const x: Channel<'x'> = { field: 'step', type: 'quantitative', title: 'training step' };
  const layer: Layer = {
    layer: [
      { mark: { type: 'area', opacity: 0.18 }, encoding: { x, y: { field: 'ciLow', type: 'quantitative', title: metricTitle, axis: ACC_AXIS }, y2: { field: 'ciHigh' }, color } },
      { mark: { type: 'line', strokeWidth: 1.5 }, encoding: { x, y: { field: 'mean', type: 'quantitative' }, color } },
      {
        mark: { type: 'point', size: 14, filled: true },
        encoding: {
          x,
          y: { field: 'mean', type: 'quantitative' },
          color,
          tooltip: [
            { field: 'method', title: colorTitle },
            { field: 'step' },
            { field: 'mean', title: 'mean (%)', format: '.2f' },
            { field: 'n', title: 'seeds' },
          ],
        },
      },
    ],
  };
  return {
    name: 'learning_curves',
    title: 'Learning curves',
    caption: 'Target test accuracy at each evaluation; line: mean over seeds, band: 95% CI.',
    spec: top('Learning curves', 'mean over seeds, band: 95% CI', panels(values, layer, WIDTH[column], 160)),
    rows: values.length,
  };
}

/** Mean and 95% CI per (benchmark, setting, method, step) of a metric's history. */
async function curves(runs: readonly ReportRun[], rows: readonly RunRow[], key: string): Promise<CurvePoint[]> {
  const byRun = new Map(rows.map((r) => [r.runId, r]));
  const acc = new Map<string, { row: RunRow; step: number; values: number[] }>();
  for (const run of runs) {
    const row = byRun.get(run.runId);
    if (row == null) continue;
    for (const p of await run.history(key)) {
      const id = `${row.benchmark}\u0000${row.setting}\u0000${row.method}\u0000${p.step}`;
      const entry = acc.get(id) ?? { row, step: p.step, values: [] };
      entry.values.push(p.value);
      acc.set(id, entry);
    }
  }
  return [...acc.values()]
    .map(({ row, step, values }) => {
      const m = mean(values);
      const h = ci95HalfWidth(values);
      return { benchmark: row.benchmark, setting: row.setting, method: row.method, step, mean: m, ciLow: m - h, ciHigh: m + h, n: values.length };
    })
    .sort((a, b) => a.method.localeCompare(b.method) || a.step - b.step);
}

export const learningCurves: FigureKind<CurvePoint[]> = {
  name: 'learning_curves',
  async gather(context: ReportContext) {
    context.say('learning curves');
    const points = await curves(context.runs, context.rows, 'target_test_acc');
    return points.length > 0 ? drawn(points) : notDrawn();
  },
  build: (points, context) => learningCurveFigure(points, context.column, context.roles),
};
