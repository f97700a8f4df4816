/**
 * Vega-Lite specs of the figures a domain-adaptation paper needs, data inlined, in the one theme
 * of ./theme.ts. Each builder takes plain rows (already aggregated where the figure shows
 * aggregates) and returns a Figure; nothing here reads runs or renders.
 * Accuracies arrive as fractions and are drawn in percent.
 */
import { themeConfig, WIDTH, type Column } from './theme.js';

export interface Figure {
  /** File stem: comparison, learning_curves, ... */
  name: string;
  title: string;
  caption: string;
  spec: Record<string, unknown>;
  /** Data rows drawn; each becomes at least one mark (the HTML test checks this). */
  rows: number;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const ACC_TITLE = 'target test accuracy (%)';

/** source first, target (the oracle) last, the rest in name order. */
export function methodOrder(methods: Iterable<string>): string[] {
  const rank = (m: string) => (m === 'source' ? 0 : m === 'target' ? 2 : 1);
  return [...new Set(methods)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

const pct = (x: number) => Math.round(x * 10000) / 100;

/** mean and 95% CI in percent; without a CI (a single seed) the bar collapses to the mean. */
function pctCi(r: { mean: number; ciLow: number; ciHigh: number }): { mean: number; ciLow: number; ciHigh: number } {
  return { mean: pct(r.mean), ciLow: pct(Number.isNaN(r.ciLow) ? r.mean : r.ciLow), ciHigh: pct(Number.isNaN(r.ciHigh) ? r.mean : r.ciHigh) };
}

/** The 95% CI bar layer of an accuracy plot. */
function ciRule(x: Record<string, unknown>, color: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...extra, mark: { type: 'rule', strokeWidth: 1 }, encoding: { x, y: { field: 'ciLow', type: 'quantitative', title: ACC_TITLE, scale: { zero: false }, axis: ACC_AXIS }, y2: { field: 'ciHigh' }, color } };
}

/** Label budgets in increasing order, 'all' last. */
const byBudget = (a: string, b: string) => (a === 'all' ? Infinity : Number(a)) - (b === 'all' ? Infinity : Number(b));

/** Facet headers break long labels at ' · ' (benchmark · setting · setting). */
export const HEADER = { labelExpr: "split(datum.value, ' · ')", labelLimit: 320 };
const ACC_AXIS = { format: '.1~f' };

/** One panel per distinct `panel` value: a facet when there are several, a plain layer otherwise. */
function panels(values: Record<string, unknown>[], layer: Record<string, unknown>, width: number, height: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const distinct = new Set(values.map((v) => v['panel']));
  const inner = { width, height, ...layer };
  if (distinct.size <= 1) return { ...inner, data: { values }, ...extra };
  const order = [...distinct].map(String).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return { data: { values }, facet: { field: 'panel', type: 'nominal', title: null, header: HEADER, sort: order }, columns: 2, spec: inner, resolve: { scale: { x: 'independent', y: 'independent' } }, ...extra };
}

function top(title: string, subtitle: string | string[], body: Record<string, unknown>): Record<string, unknown> {
  return { $schema: SCHEMA, title: { text: title, subtitle }, config: themeConfig(), ...body };
}

function panelOf(benchmark: string, setting: string): string {
  return setting === '' ? benchmark : `${benchmark} · ${setting.split(', ').join(' · ')}`;
}

export interface MeanRow {
  benchmark: string;
  setting: string;
  method: string;
  n: number;
  mean: number;
  std: number;
  ciLow: number;
  ciHigh: number;
}

/** Method comparison: mean target accuracy per method, 95% CI bars, source and oracle as reference lines. */
export function comparisonFigure(summary: readonly MeanRow[], column: Column = 'single'): Figure {
  const values = summary.map((r) => ({
    panel: panelOf(r.benchmark, r.setting),
    method: r.method,
    n: r.n,
    std: pct(r.std),
    ...pctCi(r),
  }));
  const order = methodOrder(values.map((v) => v.method));
  const x = { field: 'method', type: 'nominal', sort: order, title: 'strategy', axis: { labelAngle: -35 } };
  const tooltip = [
    { field: 'method', title: 'strategy' },
    { field: 'mean', title: 'mean (%)', format: '.2f' },
    { field: 'std', title: 'std (%)', format: '.2f' },
    { field: 'ciLow', title: '95% CI low', format: '.2f' },
    { field: 'ciHigh', title: '95% CI high', format: '.2f' },
    { field: 'n', title: 'seeds' },
  ];
  const layer = {
    layer: [
      { transform: [{ filter: "datum.method === 'source'" }], mark: { type: 'rule', strokeDash: [4, 3], color: '#555', strokeWidth: 1 }, encoding: { y: { field: 'mean', type: 'quantitative' } } },
      { transform: [{ filter: "datum.method === 'target'" }], mark: { type: 'rule', strokeDash: [1, 2], color: '#009E73', strokeWidth: 1.2 }, encoding: { y: { field: 'mean', type: 'quantitative' } } },
      {
        mark: { type: 'rule', strokeWidth: 1.2 },
        encoding: { x, y: { field: 'ciLow', type: 'quantitative', title: ACC_TITLE, scale: { zero: false }, axis: ACC_AXIS }, y2: { field: 'ciHigh' }, color: { field: 'method', type: 'nominal', sort: order, legend: null } },
      },
      {
        mark: { type: 'point', filled: true, size: 50 },
        encoding: { x, y: { field: 'mean', type: 'quantitative' }, color: { field: 'method', type: 'nominal', sort: order, legend: null }, tooltip },
      },
    ],
  };
  return {
    name: 'comparison',
    title: 'Method comparison',
    caption: 'Mean target test accuracy over seeds; bars are 95% Student-t confidence intervals. Dashed line: source only; dotted line: target (oracle trained on labelled target), when run.',
    spec: top('Target accuracy per strategy', ['mean over seeds, 95% CI', [order.includes('source') ? 'dashed: source only' : '', order.includes('target') ? 'dotted: target oracle' : ''].filter((x) => x !== '').join('; ')].filter((x) => x !== ''), panels(values, layer, Math.max(WIDTH[column], 28 * order.length), 170)),
    rows: values.length,
  };
}

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

/** Learning curves: target accuracy against step, mean line and 95% CI band per method. */
export function learningCurveFigure(points: readonly CurvePoint[], column: Column = 'single', metricTitle = ACC_TITLE, colorTitle = 'strategy'): Figure {
  const values = points.map((p) => ({
    panel: panelOf(p.benchmark, p.setting),
    method: p.method,
    step: p.step,
    n: p.n,
    ...pctCi(p),
  }));
  const order = methodOrder(values.map((v) => v.method));
  const color = { field: 'method', type: 'nominal', sort: order, title: colorTitle };
  const x = { field: 'step', type: 'quantitative', title: 'training step' };
  const layer = {
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

export interface BudgetRow extends MeanRow {
  labels: string;
}

/** Label-budget curve: target accuracy against labelled target images per class, a line per method. */
export function labelBudgetFigure(rows: readonly BudgetRow[], column: Column = 'single'): Figure {
  const order = [...new Set(rows.map((r) => r.labels))].sort(byBudget);
  const tick = (l: string) => (l === '0' ? '0 (unsup.)' : l);
  const values = rows.map((r) => ({
    panel: r.benchmark,
    method: r.method,
    labels: tick(r.labels),
    n: r.n,
    ...pctCi(r),
  }));
  const methods = methodOrder(values.map((v) => v.method).filter((m) => m !== 'target'));
  const x = { field: 'labels', type: 'ordinal', sort: order.map(tick), title: 'labelled target images per class', axis: { labelAngle: 0 } };
  const color = { field: 'method', type: 'nominal', sort: methods, title: 'strategy' };
  const notOracle = "datum.method !== 'target'";
  const layer = {
    layer: [
      { transform: [{ filter: "datum.method === 'target'" }], mark: { type: 'rule', strokeDash: [1, 2], color: '#009E73', strokeWidth: 1.2 }, encoding: { y: { aggregate: 'mean', field: 'mean', type: 'quantitative' } } },
      ciRule(x, color, { transform: [{ filter: notOracle }] }),
      { transform: [{ filter: notOracle }], mark: { type: 'line', point: { filled: true, size: 36 } }, encoding: { x, y: { field: 'mean', type: 'quantitative' }, color, tooltip: [{ field: 'method' }, { field: 'labels' }, { field: 'mean', format: '.2f' }, { field: 'n', title: 'seeds' }] } },
    ],
  };
  return {
    name: 'label_budget',
    title: 'Label budget',
    caption: 'Target test accuracy against the number of labelled target images per class (0: unsupervised); mean over seeds, 95% CI. Dotted line: the target oracle (all target labels), when run.',
    spec: top('Accuracy against target label budget', ['mean over seeds, 95% CI; 0 = unsupervised', ...(rows.some((r) => r.method === 'target') ? ['dotted: target oracle'] : [])], panels(values, layer, WIDTH[column], 170)),
    rows: values.length,
  };
}

export interface FreezeRow extends MeanRow {
  freeze: string;
  labels: string;
}

/** Freeze-depth curve: fine-tuning accuracy against frozen layers, a line per target-set size. */
export function freezeDepthFigure(rows: readonly FreezeRow[], column: Column = 'single'): Figure {
  const numeric = rows.every((r) => /^\d+$/.test(r.freeze));
  const values = rows.map((r) => ({
    panel: r.benchmark,
    freeze: numeric ? Number(r.freeze) : r.freeze,
    size: r.labels === 'all' ? 'all labels' : `${r.labels} per class`,
    n: r.n,
    ...pctCi(r),
  }));
  const sizes = [...new Set(rows.map((r) => r.labels))].sort(byBudget);
  const x = numeric ? { field: 'freeze', type: 'quantitative', title: 'frozen layers (from the input)', axis: { tickMinStep: 1 }, scale: { padding: 12 } } : { field: 'freeze', type: 'nominal', title: 'frozen layers' };
  const color = { field: 'size', type: 'ordinal', sort: sizes.map((s) => (s === 'all' ? 'all labels' : `${s} per class`)), title: 'labelled target', scale: { scheme: 'viridis' } };
  const layer = {
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

/** 2-D UMAP of encoder features of source and target test images: colour = domain, shape = class, before vs after. */
export function embeddingFigure(points: readonly EmbeddingPoint[], layer: string): Figure {
  const values = points.map((p) => ({ ...p, digit: String(p.digit), x: Math.round(p.x * 1000) / 1000, y: Math.round(p.y * 1000) / 1000 }));
  const methods = methodOrder(values.map((v) => v.method));
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

export interface DistanceRow {
  method: string;
  layer: string;
  stage: 'before' | 'after';
  mean: number;
  n: number;
}

/** Per-layer domain distance (MMD between source and target features), before vs after, per method. */
export function domainDistanceFigure(rows: readonly DistanceRow[], layers: readonly string[], measure: string): Figure {
  const values = rows.map((r) => ({ ...r, mean: Math.round(r.mean * 1e5) / 1e5 }));
  const methods = methodOrder(values.map((v) => v.method));
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

export interface ConfusionCell {
  method: string;
  actual: number;
  predicted: number;
  count: number;
  rate: number;
}

/** Row-normalised confusion matrix on the target test set, one panel per method. */
export function confusionFigure(cells: readonly ConfusionCell[], subtitle: string): Figure {
  const values = cells.map((c) => ({ ...c, rate: Math.round(c.rate * 1000) / 1000 }));
  const methods = methodOrder(values.map((v) => v.method));
  const classes = [...new Set(values.map((v) => v.actual))].sort((a, b) => a - b);
  const many = methods.length > 1;
  const body = {
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
  const spec = many
    ? { data: { values }, facet: { field: 'method', type: 'nominal', sort: methods, title: null, header: HEADER }, columns: 3, spec: body }
    : { data: { values }, ...body };
  return {
    name: 'confusion_matrix',
    title: 'Confusion matrix',
    caption: `Target test set, rows normalised to the true class (${subtitle}).`,
    spec: top('Confusion matrix on the target test set', subtitle, spec),
    rows: values.length,
  };
}
