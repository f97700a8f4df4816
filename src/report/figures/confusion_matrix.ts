/** Row-normalised confusion matrix on the target test set, one panel per method. */
import type { ReportContext } from '../context.js';
import type { MethodRoles } from '../roles.js';
import { readRunJson } from '../runs.js';
import { drawn, notDrawn, type FigureKind } from './registry.js';
import { HEADER, top, type Body, type Figure, type Layer } from './shared.js';

export interface ConfusionCell {
  method: string;
  actual: number;
  predicted: number;
  count: number;
  rate: number;
}

/** The cells of one matrix (matrix[true][predicted] = count), each rate a fraction of its true class. */
export function confusionCells(method: string, matrix: readonly (readonly number[])[]): ConfusionCell[] {
  return matrix.flatMap((row, actual) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((count, predicted) => ({ method, actual, predicted, count, rate: total > 0 ? count / total : 0 }));
  });
}

export function confusionFigure(cells: readonly ConfusionCell[], subtitle: string, roles: MethodRoles): Figure {
  const values = cells.map((c) => ({ ...c, rate: Math.round(c.rate * 1000) / 1000 }));
  const methods = roles.order(values.map((v) => v.method));
  const classes = [...new Set(values.map((v) => v.actual))].sort((a, b) => a - b);
  const many = methods.length > 1;
  const body: Omit<Layer, 'data'> = {
    width: 170,
    height: 170,
    encoding: {
      x: { field: 'predicted', type: 'ordinal', sort: classes, title: 'predicted class', axis: { labelAngle: 0 } },
      y: { field: 'actual', type: 'ordinal', sort: classes, title: 'true class' },
    },
    layer: [
      {
        mark: { type: 'rect' },
        encoding: {
          color: { field: 'rate', type: 'quantitative', scale: { domain: [0, 1], range: ['#f7fbff', '#08519c'] }, title: 'fraction of true class', legend: { format: '.0%', gradientLength: 120 } },
          tooltip: [{ field: 'method' }, { field: 'actual', title: 'true' }, { field: 'predicted' }, { field: 'count', title: 'images' }, { field: 'rate', format: '.1%' }],
        },
      },
      {
        transform: [{ filter: 'datum.rate >= 0.05' }],
        mark: { type: 'text', fontSize: 7 },
        encoding: { text: { field: 'rate', type: 'quantitative', format: '.0%' }, color: { condition: { test: 'datum.rate > 0.5', value: 'white' }, value: '#222' } },
      },
    ],
  };
  const spec: Body = many ? { data: { values }, facet: { field: 'method', type: 'nominal', sort: methods, title: null, header: HEADER }, columns: 3, spec: body } : { data: { values }, ...body };
  return {
    name: 'confusion_matrix',
    title: 'Confusion matrix',
    caption: `Target test set, rows normalised to the true class (${subtitle}).`,
    spec: top('Confusion matrix on the target test set', subtitle, spec),
    rows: values.length,
  };
}

/** Per label, the confusion matrices of its runs summed. */
async function summedMatrices(context: ReportContext): Promise<Map<string, number[][]>> {
  const confusion = new Map<string, number[][]>();
  for (const row of context.rows) {
    const cm = await readRunJson(context.runOf(row), 'confusion_matrix.json');
    if (cm == null) continue;
    const label = context.labelOf(row);
    const sum = confusion.get(label);
    if (sum == null) confusion.set(label, cm.matrix.map((r) => [...r]));
    else cm.matrix.forEach((r, i) => r.forEach((v, j) => (sum[i]![j]! += v)));
  }
  return confusion;
}

export const confusionMatrix: FigureKind<ConfusionCell[]> = {
  name: 'confusion_matrix',
  async gather(context) {
    const matrices = await summedMatrices(context);
    return matrices.size > 0 ? drawn([...matrices].flatMap(([label, matrix]) => confusionCells(label, matrix))) : notDrawn();
  },
  build: (cells, context) => confusionFigure(cells, 'summed over seeds; last evaluation of each run', context.roles),
};
