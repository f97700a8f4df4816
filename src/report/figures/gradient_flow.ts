/**
 * The vanishing-gradient lesson on a run's own numbers.
 *
 * gradient_flow: the L2 norm of the loss gradient of each block's weights at initialisation (the
 * gradient of the first step, `gradient_norms.json`) against the block's depth from the input, one
 * line per backbone option set, log scale; panels by backbone and regime (activation, norm).
 *
 * skip_training_loss: where runs differ only in `model.backbone.skip`, their training loss against
 * steps, residual next to its plain twin.
 */
import type { ReportRun } from '../runs.js';
import { readRunJson } from '../runs.js';
import { WIDTH } from '../theme.js';
import { drawn, notDrawn, type FigureKind } from './registry.js';
import { panels, top, type Channel, type Layer } from './shared.js';

/** float32 underflows to exactly 0 in deep sigmoid stacks: drawn at this floor of the log scale. */
export const NORM_FLOOR = 1e-30;

const BACKBONE = 'model.backbone';
/** The keys that make a regime (a panel); the others that vary name the lines. */
const PANEL_KEYS = ['name', 'activation', 'norm'];

/** A run's backbone options from its params (`model.backbone` as a plain name, or its keys). */
export function backboneParams(run: Pick<ReportRun, 'params'>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(run.params)) {
    if (k === BACKBONE) out['name'] = v;
    else if (k.startsWith(`${BACKBONE}.`)) out[k.slice(BACKBONE.length + 1)] = v;
  }
  return out;
}

/** Keys whose value differs among the runs (a key a run lacks counts as its default: '-'). */
function varying(all: readonly Record<string, string>[]): string[] {
  const keys = [...new Set(all.flatMap((p) => Object.keys(p)))].sort();
  return keys.filter((k) => new Set(all.map((p) => p[k] ?? '-')).size > 1);
}

const describe = (p: Record<string, string>, keys: readonly string[]) => keys.filter((k) => p[k] != null).map((k) => (k === 'name' ? p[k]! : `${k} ${p[k]}`)).join(' · ');

export interface FlowRow {
  panel: string;
  line: string;
  block: string;
  depth: number;
  /** Mean over the seeds of the norm at initialisation. */
  norm: number;
  /** The norm was 0 (drawn at NORM_FLOOR). */
  zero: boolean;
  seeds: number;
}

export async function gatherFlow(runs: readonly ReportRun[]): Promise<FlowRow[]> {
  const found: { params: Record<string, string>; blocks: string[]; norms: Record<string, number> }[] = [];
  for (const run of runs) {
    const file = await readRunJson(run, 'gradient_norms.json');
    const first = file?.steps.find((s) => s.step === 0) ?? file?.steps[0];
    if (file == null || first == null) continue;
    found.push({ params: backboneParams(run), blocks: file.blocks, norms: first.norms });
  }
  const keys = varying(found.map((f) => f.params));
  const panelKeys = PANEL_KEYS.filter((k) => keys.includes(k) || k === 'name');
  const panelOf = (p: Record<string, string>) => describe(p, panelKeys);
  // A line is named by what varies among the runs of its panel (the regime is the panel's title).
  const lineKeys = new Map<string, string[]>();
  for (const panel of new Set(found.map((f) => panelOf(f.params)))) {
    lineKeys.set(panel, varying(found.filter((f) => panelOf(f.params) === panel).map((f) => f.params)).filter((k) => !PANEL_KEYS.includes(k)));
  }
  const groups = new Map<string, { panel: string; line: string; blocks: string[]; sums: Map<string, number[]> }>();
  for (const f of found) {
    const panel = panelOf(f.params);
    const line = describe(f.params, lineKeys.get(panel)!) || f.params['name'] || 'backbone';
    const id = `${panel}\u0000${line}`;
    const g = groups.get(id) ?? { panel, line, blocks: f.blocks, sums: new Map() };
    for (const b of f.blocks) if (f.norms[b] != null) g.sums.set(b, [...(g.sums.get(b) ?? []), f.norms[b]!]);
    groups.set(id, g);
  }
  return [...groups.values()].flatMap((g) =>
    g.blocks
      .filter((b) => g.sums.has(b))
      .map((b, i) => {
        const values = g.sums.get(b)!;
        const mean = values.reduce((s, v) => s + v, 0) / values.length;
        return { panel: g.panel, line: g.line, block: b, depth: i + 1, norm: Math.max(mean, NORM_FLOOR), zero: mean === 0, seeds: values.length };
      }),
  );
}

export const gradientFlow: FigureKind<FlowRow[]> = {
  name: 'gradient_flow',
  async gather(context) {
    context.say('gradient flow');
    const rows = await gatherFlow(context.runs);
    return rows.length > 0 ? drawn(rows) : notDrawn('gradient flow: no run logged gradient norms (gradient_norms.json)');
  },
  build(rows, context) {
    const x: Channel<'x'> = { field: 'depth', type: 'quantitative', title: 'block (1 = nearest the input; last = the head)', axis: { tickMinStep: 1 } };
    const y: Channel<'y'> = { field: 'norm', type: 'quantitative', title: 'gradient L2 norm at initialisation', scale: { type: 'log' }, axis: { format: '.0e' } };
    const lines = new Set(rows.map((r) => r.line)).size;
    const color: Channel<'color'> = { field: 'line', type: 'nominal', title: 'options', legend: { labelLimit: 360 }, ...(lines > 10 ? { scale: { scheme: 'tableau20' } } : {}) };
    const tooltip = [
      { field: 'line', title: 'options' },
      { field: 'block', title: 'block' },
      { field: 'norm', title: 'norm', format: '.3e' },
      { field: 'zero', title: 'exactly 0 (underflow)' },
      { field: 'seeds', title: 'seeds' },
    ];
    const layer: Layer = {
      layer: [
        { mark: { type: 'line', strokeWidth: 1.5 }, encoding: { x, y, color } },
        { transform: [{ filter: '!datum.zero' }], mark: { type: 'point', size: 18, filled: true }, encoding: { x, y, color, tooltip } },
        { transform: [{ filter: 'datum.zero' }], mark: { type: 'point', size: 30, filled: false, strokeWidth: 1.5 }, encoding: { x, y, color, tooltip } },
      ],
    };
    const zeros = rows.filter((r) => r.zero).length;
    return {
      name: 'gradient_flow',
      title: 'Gradient flow',
      caption: `L2 norm of the loss gradient of each block's weights at initialisation (the first step's gradient), from the input to the head, log scale; one line per option set, mean over seeds.${zeros > 0 ? ` Hollow points: the norm was exactly 0 (float32 underflow), drawn at ${NORM_FLOOR.toExponential(0)}.` : ''}`,
      spec: top('Gradient norm per block at initialisation', 'from the block nearest the input (left) to the head (right): where the gradient vanishes or explodes', panels(rows, layer, WIDTH[context.column], 200)),
      rows: rows.length,
    };
  },
};

export interface LossRow {
  panel: string;
  skip: string;
  step: number;
  loss: number;
  seeds: number;
}

/** Runs equal in every backbone option but `skip`, both values present: their training loss per step (mean over seeds). */
export async function gatherSkipLoss(runs: readonly ReportRun[]): Promise<LossRow[]> {
  const all = runs.map((r) => ({ run: r, params: backboneParams(r) })).filter((r) => r.params['skip'] != null);
  const keyOf = (p: Record<string, string>) => JSON.stringify(Object.entries(p).filter(([k]) => k !== 'skip').sort());
  const byKey = new Map<string, typeof all>();
  for (const r of all) byKey.set(keyOf(r.params), [...(byKey.get(keyOf(r.params)) ?? []), r]);
  const keys = varying(all.map((r) => r.params)).filter((k) => k !== 'skip');
  const rows: LossRow[] = [];
  for (const group of byKey.values()) {
    if (new Set(group.map((r) => r.params['skip'])).size < 2) continue;
    const panel = describe(group[0]!.params, ['name', ...keys.filter((k) => k !== 'name')]) || 'backbone';
    const acc = new Map<string, { skip: string; step: number; values: number[] }>();
    for (const { run, params } of group) {
      for (const p of await run.history('loss/total')) {
        const id = `${params['skip']}\u0000${p.step}`;
        const e = acc.get(id) ?? { skip: params['skip']!, step: p.step, values: [] };
        e.values.push(p.value);
        acc.set(id, e);
      }
    }
    for (const e of acc.values()) rows.push({ panel, skip: e.skip === 'true' ? 'residual (skip: true)' : 'plain (skip: false)', step: e.step, loss: e.values.reduce((s, v) => s + v, 0) / e.values.length, seeds: e.values.length });
  }
  return rows.sort((a, b) => a.panel.localeCompare(b.panel) || a.skip.localeCompare(b.skip) || a.step - b.step);
}

export const skipTrainingLoss: FigureKind<LossRow[]> = {
  name: 'skip_training_loss',
  async gather(context) {
    const rows = await gatherSkipLoss(context.runs);
    return rows.length > 0 ? drawn(rows) : notDrawn(null);
  },
  build(rows, context) {
    const x: Channel<'x'> = { field: 'step', type: 'quantitative', title: 'training step' };
    const y: Channel<'y'> = { field: 'loss', type: 'quantitative', title: 'training loss (total)' };
    const color: Channel<'color'> = { field: 'skip', type: 'nominal', title: 'network', sort: ['residual (skip: true)', 'plain (skip: false)'] };
    const layer: Layer = {
      layer: [
        { mark: { type: 'line', strokeWidth: 1, opacity: 0.35 }, encoding: { x, y, color } },
        { transform: [{ window: [{ op: 'mean', field: 'loss', as: 'smooth' }], frame: [-4, 4], groupby: ['panel', 'skip'], sort: [{ field: 'step' }] }], mark: { type: 'line', strokeWidth: 2 }, encoding: { x, y: { field: 'smooth', type: 'quantitative' }, color, tooltip: [{ field: 'skip', title: 'network' }, { field: 'step' }, { field: 'loss', format: '.3f' }, { field: 'seeds' }] } },
      ],
    };
    return {
      name: 'skip_training_loss',
      title: 'Residual vs plain: training loss',
      caption: 'Training loss against steps of runs that differ only in model.backbone.skip; thin: the logged values (mean over seeds), thick: a 9-point moving mean.',
      spec: top('Training loss: residual network and its plain twin', 'same depth, same options, skips removed', panels(rows, layer, WIDTH[context.column], 170)),
      rows: rows.length,
    };
  },
};
