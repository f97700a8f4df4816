/** Freeze-depth curve: fine-tuning accuracy against frozen layers, a line per target-set size. */
import { summariseBy } from '../aggregate.js';
import { WIDTH, type Column } from '../theme.js';
import { drawn, notDrawn, type FigureKind } from './registry.js';
import { IS_MEAN, byBudget, intervalRule, panels, seedPointsLayer, seedRows, spread, spreadNote, spreadTooltip, top, zoomedScale, type Channel, type Figure, type Layer, type MeanRow } from './shared.js';

export interface FreezeRow extends MeanRow {
  freeze: string;
  labels: string;
}

/** The strategy whose `adapter.freeze` the curve draws. */
const FINETUNE = 'finetune';

export function freezeDepthFigure(rows: readonly FreezeRow[], column: Column): Figure {
  const numeric = rows.every((r) => /^\d+$/.test(r.freeze));
  const sizeOf = (labels: string) => (labels === 'all' ? 'all labels' : `${labels} per class`);
  const group = (r: FreezeRow) => ({ panel: r.benchmark, method: r.method, freeze: numeric ? Number(r.freeze) : r.freeze, size: sizeOf(r.labels) });
  const means = rows.map((r) => ({ kind: 'mean' as const, ...group(r), ...spread(r.values) }));
  const values = [...means, ...rows.flatMap((r) => seedRows(group(r), r.values, r.seeds))];
  const sizes = [...new Set(rows.map((r) => r.labels))].sort(byBudget);
  const x: Channel<'x'> = numeric ? { field: 'freeze', type: 'quantitative', title: 'frozen layers (from the input)', axis: { tickMinStep: 1 }, scale: { padding: 12 } } : { field: 'freeze', type: 'nominal', title: 'frozen layers' };
  const color: Channel<'color'> = { field: 'size', type: 'ordinal', sort: sizes.map(sizeOf), title: 'labelled target', scale: { scheme: 'viridis' } };
  const layer: Layer = {
    layer: [
      intervalRule(x, color, zoomedScale(values)),
      seedPointsLayer(x, color),
      { transform: [{ filter: IS_MEAN }], mark: { type: 'line', point: { filled: true, size: 36 } }, encoding: { x, y: { field: 'mean', type: 'quantitative' }, color, tooltip: spreadTooltip([{ field: 'freeze', title: 'frozen layers' }, { field: 'size', title: 'labelled target' }]) } },
    ],
  };
  return {
    name: 'freeze_depth',
    title: 'Freeze depth',
    caption: "Fine-tuning target accuracy against the number of frozen pre-trained layers, one line per labelled target-set size; mean over seeds, 95% CI (with fewer than 3 seeds: the seeds' range, the seeds as points).",
    spec: top('Fine-tuning: accuracy against frozen layers', spreadNote(means, 'bars'), panels(values, layer, WIDTH[column], 170)),
    rows: values.length,
  };
}

export const freezeDepth: FigureKind<FreezeRow[]> = {
  name: 'freeze_depth',
  gather({ rows }) {
    const finetune = rows.filter((r) => r.adapter === FINETUNE);
    if (new Set(finetune.map((r) => r.freeze)).size <= 1) return notDrawn('freeze-depth curve: no finetune runs with more than one adapter.freeze value');
    return drawn(summariseBy(finetune, ['benchmark', 'freeze', 'labels']).map((r) => ({ ...r, method: FINETUNE, setting: '' })));
  },
  build: (rows, context) => freezeDepthFigure(rows, context.column),
};
