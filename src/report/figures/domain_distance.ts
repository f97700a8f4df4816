/** Per-layer domain distance (MMD between source and target features), before vs after, per method. */
import type { ReportContext } from '../context.js';
import type { MethodRoles } from '../roles.js';
import { readRunJson } from '../runs.js';
import { mean } from '../stats.js';
import { drawn, notDrawn, type FigureKind } from './registry.js';
import { HEADER, top, type Figure } from './shared.js';

export interface DistanceRow {
  method: string;
  layer: string;
  stage: 'before' | 'after';
  mean: number;
  n: number;
}

export function domainDistanceFigure(rows: readonly DistanceRow[], layers: readonly string[], measure: string, roles: MethodRoles): Figure {
  const values = rows.map((r) => ({ ...r, mean: Math.round(r.mean * 1e5) / 1e5 }));
  const methods = roles.order(values.map((v) => v.method));
  return {
    name: 'domain_distance',
    title: 'Per-layer domain distance',
    caption: `${measure} between 200 source and 200 target test images at each named layer, at the start and the end of training; mean over seeds. Lower: the domains are closer at that layer.`,
    spec: top('Domain distance per layer', `${measure}, mean over seeds`, {
      data: { values },
      facet: { field: 'method', type: 'nominal', sort: methods, title: null, header: HEADER },
      columns: 3,
      spec: {
        width: 150,
        height: 120,
        mark: { type: 'bar' },
        encoding: {
          x: { field: 'layer', type: 'nominal', sort: [...layers], title: 'layer (input to output)', axis: { labelAngle: -40 } },
          xOffset: { field: 'stage', type: 'nominal', sort: ['before', 'after'] },
          y: { field: 'mean', type: 'quantitative', title: 'MMD² (unitless)' },
          color: { field: 'stage', type: 'nominal', sort: ['before', 'after'], scale: { range: ['#999999', '#0072B2'] }, title: 'training' },
          tooltip: [{ field: 'method' }, { field: 'layer' }, { field: 'stage' }, { field: 'mean', title: 'MMD²', format: '.4f' }, { field: 'n', title: 'seeds' }],
        },
      },
    }),
    rows: values.length,
  };
}

interface Distances {
  rows: DistanceRow[];
  layers: string[];
  measure: string;
}

/** Mean per (label, layer, stage) of every run's domain_distance.json. */
async function distances(context: ReportContext): Promise<Distances> {
  const acc = new Map<string, { method: string; layer: string; stage: 'before' | 'after'; values: number[] }>();
  const layers: string[] = [];
  let measure = 'MMD';
  for (const row of context.rows) {
    const dd = await readRunJson(context.runOf(row), 'domain_distance.json');
    if (dd == null) continue;
    const label = context.labelOf(row);
    measure = dd.measure === 'mmd' ? 'MMD² (Gaussian kernels, median-heuristic bandwidths)' : dd.measure;
    for (const l of dd.layers) {
      if (!layers.includes(l.layer)) layers.push(l.layer);
      for (const [stage, value] of [['before', l.start], ['after', l.end]] as const) {
        const id = `${label}\u0000${l.layer}\u0000${stage}`;
        const entry = acc.get(id) ?? { method: label, layer: l.layer, stage, values: [] };
        entry.values.push(value);
        acc.set(id, entry);
      }
    }
  }
  return { rows: [...acc.values()].map((d) => ({ method: d.method, layer: d.layer, stage: d.stage, mean: mean(d.values), n: d.values.length })), layers, measure };
}

export const domainDistance: FigureKind<Distances> = {
  name: 'domain_distance',
  async gather(context) {
    const gathered = await distances(context);
    return gathered.rows.length > 0 ? drawn(gathered) : notDrawn('domain distance: no run logged domain_distance.json');
  },
  build: ({ rows, layers, measure }, context) => domainDistanceFigure(rows, layers, measure, context.roles),
};
