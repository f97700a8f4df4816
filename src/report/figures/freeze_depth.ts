/** Freeze-depth curve: fine-tuning accuracy against frozen layers, a line per target-set size. */
import { summariseBy } from '../aggregate.js';
import { WIDTH, type Column } from '../theme.js';
import { drawn, notDrawn, type FigureKind } from './registry.js';
import { byBudget, ciRule, panels, pctCi, top, type Channel, type Figure, type Layer, type MeanRow } from './shared.js';

export interface FreezeRow extends MeanRow {
  freeze: string;
  labels: string;
}

/** The strategy whose `adapter.freeze` the curve draws. */
const FINETUNE = 'finetune';

export function freezeDepthFigure(rows: readonly FreezeRow[], column: Column): Figure {
  const numeric = rows.every((r) => /^\d+$/.test(r.freeze));
  const values = rows.map((r) => ({
    panel: r.benchmark,
    freeze: numeric ? Number(r.freeze) : r.freeze,
    size: r.labels === 'all' ? 'all labels' : `${r.labels} per class`,
    n: r.n,
    ...pctCi(r),
  }));
  const sizes = [...new Set(rows.map((r) => r.labels))].sort(byBudget);
  const x: Channel<'x'> = numeric ? { field: 'freeze', type: 'quantitative', title: 'frozen layers (from the input)', axis: { tickMinStep: 1 }, scale: { padding: 12 } } : { field: 'freeze', type: 'nominal', title: 'frozen layers' };
  const color: Channel<'color'> = { field: 'size', type: 'ordinal', sort: sizes.map((s) => (s === 'all' ? 'all labels' : `${s} per class`)), title: 'labelled target', scale: { scheme: 'viridis' } };
  const layer: Layer = {
    layer: [
      ciRule(x, color),
      { mark: { type: 'line', point: { filled: true, size: 36 } }, encoding: { x, y: { field: 'mean', type: 'quantitative' }, color, tooltip: [{ field: 'freeze' }, { field: 'size' }, { field: 'mean', format: '.2f' }, { field: 'n', title: 'seeds' }] } },
    ],
  };
  return {
    name: 'freeze_depth',
    title: 'Freeze depth',
    caption: 'Fine-tuning target accuracy against the number of frozen pre-trained layers, one line per labelled target-set size; mean over seeds, 95% CI.',
    spec: top('Fine-tuning: accuracy against frozen layers', 'mean over seeds, 95% CI', panels(values, layer, WIDTH[column], 170)),
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
