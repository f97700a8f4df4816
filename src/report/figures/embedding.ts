/** 2-D UMAP of encoder features of source and target test images: colour = domain, shape = class, before vs after. */
import seedrandom from 'seedrandom';
import { UMAP } from 'umap-js';
import type { FeatureSnapshot } from '../../tracking/run-files.js';
import type { ReportContext } from '../context.js';
import type { MethodRoles } from '../roles.js';
import { readRunJson } from '../runs.js';
import { drawn, notDrawn, type FigureKind } from './registry.js';
import { HEADER, top, type Figure } from './shared.js';

export interface EmbeddingPoint {
  method: string;
  stage: 'before' | 'after';
  domain: 'source' | 'target';
  digit: number;
  x: number;
  y: number;
}

/** Ten filled shapes, one per digit class (vega's own eight, then a star and a hexagon as SVG paths). */
const SHAPES = [
  'circle',
  'square',
  'triangle-up',
  'diamond',
  'cross',
  'triangle-down',
  'triangle-right',
  'triangle-left',
  'M0,-1L0.24,-0.33L0.95,-0.31L0.38,0.12L0.59,0.81L0,0.4L-0.59,0.81L-0.38,0.12L-0.95,-0.31L-0.24,-0.33Z',
  'M0,-1L0.87,-0.5L0.87,0.5L0,1L-0.87,0.5L-0.87,-0.5Z',
];

export function embeddingFigure(points: readonly EmbeddingPoint[], layer: string, roles: MethodRoles): Figure {
  const values = points.map((p) => ({ ...p, digit: String(p.digit), x: Math.round(p.x * 1000) / 1000, y: Math.round(p.y * 1000) / 1000 }));
  const methods = roles.order(values.map((v) => v.method));
  const digits = [...new Set(values.map((v) => v.digit))].sort((a, b) => Number(a) - Number(b));
  const axis = { labels: false, ticks: false, grid: false };
  return {
    name: 'embedding',
    title: 'Feature embedding',
    caption: `UMAP of '${layer}' features of 200 source and 200 target test images (the same images in every run) at the start and the end of training; colour: domain, shape: class. One run per strategy (its lowest seed).`,
    spec: top('Feature embedding (UMAP)', `layer '${layer}'; colour: domain, shape: class`, {
      data: { values },
      facet: {
        row: { field: 'method', type: 'nominal', sort: methods, title: null, header: { ...HEADER, labelAngle: 0, labelAlign: 'left', labelLimit: 200 } },
        column: { field: 'stage', type: 'nominal', sort: ['before', 'after'], title: null, header: { labelExpr: "datum.value === 'before' ? 'before adaptation (step 0)' : 'after adaptation'" } },
      },
      spec: {
        width: 170,
        height: 150,
        mark: { type: 'point', filled: true, size: 18, opacity: 0.75 },
        encoding: {
          x: { field: 'x', type: 'quantitative', title: 'UMAP 1', axis, scale: { zero: false } },
          y: { field: 'y', type: 'quantitative', title: 'UMAP 2', axis, scale: { zero: false } },
          color: { field: 'domain', type: 'nominal', scale: { domain: ['source', 'target'], range: ['#0072B2', '#D55E00'] }, title: 'domain' },
          shape: { field: 'digit', type: 'nominal', sort: digits, scale: { range: SHAPES }, title: 'class' },
          tooltip: [{ field: 'domain' }, { field: 'digit', title: 'class' }],
        },
      },
      resolve: { scale: { x: 'independent', y: 'independent' } },
    }),
    rows: values.length,
  };
}

function umap2d(snapshot: FeatureSnapshot): number[][] {
  const data = [...snapshot.source.features, ...snapshot.target.features];
  const umap = new UMAP({ nComponents: 2, nNeighbors: 15, minDist: 0.15, random: seedrandom('dalab/umap') });
  return umap.fit(data);
}

/** The UMAP of each representative run's feature snapshots (features/start.json, features/end.json). */
async function embeddingPoints(context: ReportContext): Promise<{ points: EmbeddingPoint[]; layer: string }> {
  const points: EmbeddingPoint[] = [];
  const cache = new Map<string, number[][]>();
  let layer = '';
  for (const [label, { run }] of context.representatives) {
    for (const stage of ['before', 'after'] as const) {
      const snapshot = await readRunJson(run, stage === 'before' ? 'features/start.json' : 'features/end.json');
      if (snapshot == null) continue;
      layer = snapshot.layer;
      const key = JSON.stringify([snapshot.source.features, snapshot.target.features]);
      if (!cache.has(key)) {
        context.say(`UMAP of ${label} (${stage})`);
        cache.set(key, umap2d(snapshot));
      }
      const xy = cache.get(key)!;
      const labels = [...snapshot.source.labels, ...snapshot.target.labels];
      xy.forEach(([x, y], i) => points.push({ method: label, stage, domain: i < snapshot.source.labels.length ? 'source' : 'target', digit: labels[i]!, x: x!, y: y! }));
    }
  }
  return { points, layer };
}

export const embedding: FigureKind<{ points: EmbeddingPoint[]; layer: string }> = {
  name: 'embedding',
  async gather(context) {
    if (!context.embedding) return notDrawn();
    const gathered = await embeddingPoints(context);
    return gathered.points.length > 0 ? drawn(gathered) : notDrawn('feature embedding: no run logged features/start.json');
  },
  build: ({ points, layer }, context) => embeddingFigure(points, layer, context.roles),
};
