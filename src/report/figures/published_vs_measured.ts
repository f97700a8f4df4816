/**
 * Published against measured (`dalab report --reference FILE`): one mark per strategy and
 * benchmark at (published, dalab's mean over seeds) with the seeds' standard deviation as a bar,
 * the line y = x and the band of each number's tolerance below it. On or above the line: dalab
 * reaches the paper; inside the band: within tolerance.
 */
import { drawn, notDrawn, type FigureKind } from './registry.js';
import { top, type Figure, type Layer } from './shared.js';
import { referenceRows, type ReferenceRow } from '../reference.js';
import { WIDTH, type Column } from '../theme.js';
import { PERCENT_FORMAT, fixed } from '../format.js';

export function publishedVsMeasuredFigure(rows: readonly ReferenceRow[], column: Column): Figure {
  const measured = rows.filter((r) => r.n > 0);
  const round = (x: number) => Number(fixed(x, 1));
  const values = measured.map((r) => ({ benchmark: r.benchmark, strategy: r.method, published: r.published, mean: round(r.mean), low: round(r.mean - r.std), high: round(r.mean + r.std), n: r.n, verdict: r.verdict }));
  const all = measured.flatMap((r) => [r.published, r.mean - r.std, r.mean + r.std, r.published - r.tolerance]);
  const lo = Math.max(0, Math.floor(Math.min(...all) / 5) * 5);
  const hi = Math.min(100, Math.ceil(Math.max(...all) / 5) * 5);
  const scale = { domain: [lo, hi], zero: false, nice: false };
  const tolerance = Math.max(...measured.map((r) => r.tolerance));
  const diagonal = [
    { x: lo, y: lo, band: lo - tolerance },
    { x: hi, y: hi, band: hi - tolerance },
  ];
  const x = { field: 'published', type: 'quantitative' as const, title: 'published accuracy (%)', scale };
  const y = { field: 'mean', type: 'quantitative' as const, title: 'dalab accuracy (%)', scale };
  // Up to 20 strategies (and their variants) in distinct colours; long variant names in full.
  const color = { field: 'strategy', type: 'nominal' as const, title: 'strategy', scale: { scheme: 'tableau20' }, legend: { labelLimit: 420 } };
  const shape = { field: 'benchmark', type: 'nominal' as const, title: 'benchmark' };
  const layer: Layer = {
    layer: [
      { data: { values: diagonal }, mark: { type: 'area', opacity: 0.15, color: '#888', clip: true }, encoding: { x: { field: 'x', type: 'quantitative', scale, title: x.title }, y: { field: 'band', type: 'quantitative', scale, title: y.title }, y2: { field: 'y' } } },
      { data: { values: diagonal }, mark: { type: 'line', color: '#555', strokeDash: [4, 3], clip: true }, encoding: { x: { field: 'x', type: 'quantitative', scale, title: x.title }, y: { field: 'y', type: 'quantitative', scale, title: y.title } } },
      { mark: { type: 'rule', strokeWidth: 1.4 }, encoding: { x, y: { field: 'low', type: 'quantitative', scale, title: y.title }, y2: { field: 'high' }, color } },
      {
        mark: { type: 'point', filled: true, size: 70, opacity: 0.9 },
        encoding: {
          x,
          y,
          color,
          shape,
          tooltip: [{ field: 'strategy' }, { field: 'benchmark' }, { field: 'published', format: PERCENT_FORMAT }, { field: 'mean', title: 'dalab mean', format: PERCENT_FORMAT }, { field: 'n', title: 'seeds' }, { field: 'verdict' }],
        },
      },
    ],
  };
  const side = Math.max(220, WIDTH[column] - 140);
  return {
    name: 'published_vs_measured',
    title: 'Published against measured',
    caption: `dalab's mean target test accuracy over seeds (bars: ± one standard deviation) against the published number, one mark per strategy and benchmark. Dashed: y = x; grey band: up to ${fixed(tolerance, 1)} points below the published number (the tolerance). ${rows.length - measured.length > 0 ? `${rows.length - measured.length} published numbers have no runs and are not drawn.` : ''}`.trim(),
    spec: top('Published against measured', ['marks: mean over seeds; bars: ± 1 sd', 'dashed: y = x; band: within tolerance'], { data: { values }, ...layer, width: side, height: side } as never),
    rows: values.length,
  };
}

export const publishedVsMeasured: FigureKind<readonly ReferenceRow[]> = {
  name: 'published_vs_measured',
  gather: (context) => {
    if (context.reference == null) return notDrawn();
    const rows = referenceRows(context.reference, context.rows, context.runOf);
    return rows.some((r) => r.n > 0) ? drawn(rows) : notDrawn('published against measured: no run matches a benchmark and strategy of the reference block');
  },
  build: (rows, context) => publishedVsMeasuredFigure(rows, context.column),
};
