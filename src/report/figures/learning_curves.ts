/** Learning curves: target accuracy against step, mean line and interval band per method (95% CI, or the seeds' range below 3 seeds). */
import type { RunRow } from '../aggregate.js';
import type { ReportContext } from '../context.js';
import type { ReportRun } from '../runs.js';
import { MethodRoles } from '../roles.js';
import { WIDTH, type Column } from '../theme.js';
import { drawn, notDrawn, type FigureKind } from './registry.js';
import { ACC_AXIS, ACC_TITLE, IS_MEAN, panelOf, panels, seedPointsLayer, seedRows, spread, spreadNote, spreadTooltip, top, zoomedScale, type Channel, type Figure, type Layer } from './shared.js';

export interface CurvePoint {
  benchmark: string;
  setting: string;
  method: string;
  step: number;
  /** Per seed, in the order of `seeds` (fractions). */
  values: number[];
  seeds: number[];
}

/** The figure; the run's own learning curve (../run-figures.ts) draws splits instead of methods. */
export function learningCurveFigure(points: readonly CurvePoint[], column: Column, roles: MethodRoles = new MethodRoles(), metricTitle = ACC_TITLE, colorTitle = 'strategy'): Figure {
  const group = (p: CurvePoint) => ({ panel: panelOf(p.benchmark, p.setting), method: p.method, step: p.step });
  const means = points.map((p) => ({ kind: 'mean' as const, ...group(p), ...spread(p.values) }));
  const values = [...means, ...points.flatMap((p) => seedRows(group(p), p.values, p.seeds))];
  const order = roles.order(means.map((v) => v.method));
  const color: Channel<'color'> = { field: 'method', type: 'nominal', sort: order, title: colorTitle };
  const x: Channel<'x'> = { field: 'step', type: 'quantitative', title: 'training step' };
  const layer: Layer = {
    layer: [
      {
        transform: [{ filter: IS_MEAN }],
        mark: { type: 'area', opacity: 0.18 },
        encoding: { x, y: { field: 'low', type: 'quantitative', title: metricTitle, scale: zoomedScale(values), axis: ACC_AXIS }, y2: { field: 'high' }, color },
      },
      { transform: [{ filter: IS_MEAN }], mark: { type: 'line', strokeWidth: 1.5 }, encoding: { x, y: { field: 'mean', type: 'quantitative' }, color } },
      { ...seedPointsLayer(x, color), mark: { type: 'point', filled: false, size: 12, opacity: 0.7 } },
      {
        transform: [{ filter: IS_MEAN }],
        mark: { type: 'point', size: 14, filled: true },
        encoding: { x, y: { field: 'mean', type: 'quantitative' }, color, tooltip: spreadTooltip([{ field: 'method', title: colorTitle }, { field: 'step', title: 'step' }]) },
      },
    ],
  };
  return {
    name: 'learning_curves',
    title: 'Learning curves',
    caption: "Target test accuracy at each evaluation; line: mean over seeds, band: 95% CI (with fewer than 3 seeds: the seeds' range, the seeds as points), clipped to [0, 100].",
    spec: top('Learning curves', spreadNote(means, 'band'), panels(values, layer, WIDTH[column], 160)),
    rows: values.length,
  };
}

/** The per-seed values per (benchmark, setting, method, step) of a metric's history. */
async function curves(runs: readonly ReportRun[], rows: readonly RunRow[], key: string): Promise<CurvePoint[]> {
  const byRun = new Map(rows.map((r) => [r.runId, r]));
  const acc = new Map<string, CurvePoint>();
  for (const run of runs) {
    const row = byRun.get(run.runId);
    if (row == null) continue;
    for (const p of await run.history(key)) {
      const id = `${row.benchmark}\u0000${row.setting}\u0000${row.method}\u0000${p.step}`;
      const entry = acc.get(id) ?? { benchmark: row.benchmark, setting: row.setting, method: row.method, step: p.step, values: [], seeds: [] };
      entry.values.push(p.value);
      entry.seeds.push(row.seed);
      acc.set(id, entry);
    }
  }
  return [...acc.values()].sort((a, b) => a.method.localeCompare(b.method) || a.step - b.step);
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
