/**
 * `dalab report`: tracked runs -> aggregates (arquero) -> figures (Vega-Lite -> SVG, PNG) ->
 * tables (Markdown, LaTeX) -> one offline index.html. The same runs give the same files.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as aq from 'arquero';
import seedrandom from 'seedrandom';
import { UMAP } from 'umap-js';
import { loadRuns, type ReportRun, type RunQuery } from './runs.js';
import { pairedVsSource, runRows, summarise, withSourceAcrossLabels, type RunRow } from './aggregate.js';
import { ci95HalfWidth, mean } from './stats.js';
import {
  comparisonFigure,
  confusionFigure,
  domainDistanceFigure,
  embeddingFigure,
  freezeDepthFigure,
  labelBudgetFigure,
  learningCurveFigure,
  type ConfusionCell,
  type CurvePoint,
  type DistanceRow,
  type EmbeddingPoint,
  type Figure,
} from './figures.js';
import { accuracyTable, pairedTable, selectionTable, toHtml, toLatex, toMarkdown, type SelectionRow } from './tables.js';
import { reportHtml } from './html.js';
import { writeFigure } from './render.js';
import type { Column } from './theme.js';
import { UserError, messages } from '../messages.js';
import { DALAB_VERSION } from '../version.js';

export interface ReportOptions extends RunQuery {
  out: string;
  /** The metric compared (default final/target_test_acc: the selected checkpoint). */
  metric?: string;
  column?: Column;
  /** Skip the UMAP embedding (the slowest figure). */
  embedding?: boolean;
  onProgress?: (message: string) => void;
}

export interface ReportResult {
  out: string;
  runs: number;
  figures: string[];
  files: string[];
  skipped: Record<string, number>;
  notes: string[];
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

async function readJson<T>(run: ReportRun, rel: string): Promise<T | null> {
  const text = await run.artifact(rel);
  if (text == null) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

interface Snapshot {
  layer: string;
  source: { labels: number[]; features: number[][] };
  target: { labels: number[]; features: number[][] };
}

function umap2d(snapshot: Snapshot): number[][] {
  const data = [...snapshot.source.features, ...snapshot.target.features];
  const umap = new UMAP({ nComponents: 2, nNeighbors: 15, minDist: 0.15, random: seedrandom('dalab/umap') });
  return umap.fit(data);
}

export async function writeReport(options: ReportOptions): Promise<ReportResult> {
  const say = options.onProgress ?? (() => undefined);
  const column = options.column ?? 'single';
  const metric = options.metric ?? 'final/target_test_acc';
  const { runs, skipped } = await loadRuns(options);
  const skippedText = Object.keys(skipped).length > 0 ? ` (left out: ${Object.entries(skipped).map(([k, v]) => `${v} ${k}`).join(', ')})` : '';
  if (runs.length === 0) throw new UserError(messages.reportNoRuns(options.from, skippedText));
  const rows = runRows(runs, metric);
  if (rows.length === 0) throw new UserError(messages.reportNoMetric(metric, runs.length));
  say(`${runs.length} runs${skippedText}`);
  const notes: string[] = [];
  const summary = withSourceAcrossLabels(summarise(rows), rows);
  const paired = pairedVsSource(rows);
  const figures: Figure[] = [];

  // One label per method for single-setting figures (embedding, distances, confusion).
  const panelCount = new Set(rows.map((r) => `${r.benchmark}\u0000${r.setting}`)).size;
  const labelOf = (r: RunRow) => (panelCount > 1 ? [r.method, ...(r.setting === '' ? [r.benchmark] : r.setting.split(', '))].join(' · ') : r.method);

  figures.push(comparisonFigure(summary, column));
  say('learning curves');
  const curvePoints = await curves(runs, rows, 'target_test_acc');
  if (curvePoints.length > 0) figures.push(learningCurveFigure(curvePoints, column));

  // A curve needs a strategy (other than source, which ignores labels) at two label budgets or more.
  const budgetsOf = (method: string) => new Set(rows.filter((r) => r.method === method).map((r) => r.labels)).size;
  if (rows.some((r) => r.method !== 'source' && budgetsOf(r.method) > 1)) {
    const budget = summarise(rows, ['benchmark', 'method', 'labels', 'adapter']).map((r) => ({ ...(r as typeof r & { labels: string }), setting: '' }));
    figures.push(labelBudgetFigure(budget, column));
  } else notes.push('label-budget curve: no strategy ran at more than one target.labels (sweep target.labels to draw it)');

  const finetune = rows.filter((r) => r.adapter === 'finetune');
  if (new Set(finetune.map((r) => r.freeze)).size > 1) {
    const byFreeze = summarise(finetune, ['benchmark', 'freeze', 'labels']).map((r) => ({ ...(r as typeof r & { freeze: string; labels: string }), method: 'finetune', setting: '' }));
    figures.push(freezeDepthFigure(byFreeze, column));
  } else notes.push('freeze-depth curve: no finetune runs with more than one adapter.freeze value');

  // Per-method representative run: the lowest seed.
  const representative = new Map<string, { row: RunRow; run: ReportRun }>();
  const runById = new Map(runs.map((r) => [r.runId, r]));
  for (const row of [...rows].sort((a, b) => a.seed - b.seed)) {
    const label = labelOf(row);
    if (!representative.has(label)) representative.set(label, { row, run: runById.get(row.runId)! });
  }

  if (options.embedding !== false) {
    const points: EmbeddingPoint[] = [];
    const cache = new Map<string, number[][]>();
    let layer = '';
    for (const [label, { run }] of representative) {
      for (const stage of ['before', 'after'] as const) {
        const text = await run.artifact(`features/${stage === 'before' ? 'start' : 'end'}.json`);
        if (text == null) continue;
        const snapshot = JSON.parse(text) as Snapshot;
        layer = snapshot.layer;
        const key = JSON.stringify([snapshot.source.features, snapshot.target.features]);
        if (!cache.has(key)) {
          say(`UMAP of ${label} (${stage})`);
          cache.set(key, umap2d(snapshot));
        }
        const xy = cache.get(key)!;
        const labels = [...snapshot.source.labels, ...snapshot.target.labels];
        xy.forEach(([x, y], i) => points.push({ method: label, stage, domain: i < snapshot.source.labels.length ? 'source' : 'target', digit: labels[i]!, x: x!, y: y! }));
      }
    }
    if (points.length > 0) figures.push(embeddingFigure(points, layer));
    else notes.push('feature embedding: no run logged features/start.json');
  }

  const distances = new Map<string, { method: string; layer: string; stage: 'before' | 'after'; values: number[] }>();
  const layerOrder: string[] = [];
  let measure = 'MMD';
  const confusion = new Map<string, number[][]>();
  for (const row of rows) {
    const run = runById.get(row.runId)!;
    const label = labelOf(row);
    const dd = await readJson<{ measure: string; layers: { layer: string; start: number; end: number }[] }>(run, 'domain_distance.json');
    if (dd != null) {
      measure = dd.measure === 'mmd' ? 'MMD² (Gaussian kernels, median-heuristic bandwidths)' : dd.measure;
      for (const l of dd.layers) {
        if (!layerOrder.includes(l.layer)) layerOrder.push(l.layer);
        for (const [stage, value] of [['before', l.start], ['after', l.end]] as const) {
          const id = `${label}\u0000${l.layer}\u0000${stage}`;
          const entry = distances.get(id) ?? { method: label, layer: l.layer, stage, values: [] };
          entry.values.push(value);
          distances.set(id, entry);
        }
      }
    }
    const cm = await readJson<{ matrix: number[][] }>(run, 'confusion_matrix.json');
    if (cm != null) {
      const sum = confusion.get(label);
      if (sum == null) confusion.set(label, cm.matrix.map((r) => [...r]));
      else cm.matrix.forEach((r, i) => r.forEach((v, j) => (sum[i]![j]! += v)));
    }
  }
  if (distances.size > 0) {
    const distanceRows: DistanceRow[] = [...distances.values()].map((d) => ({ method: d.method, layer: d.layer, stage: d.stage, mean: mean(d.values), n: d.values.length }));
    figures.push(domainDistanceFigure(distanceRows, layerOrder, measure));
  } else notes.push('domain distance: no run logged domain_distance.json');
  if (confusion.size > 0) {
    const cells: ConfusionCell[] = [];
    for (const [label, matrix] of confusion) {
      matrix.forEach((r, actual) => {
        const total = r.reduce((a, b) => a + b, 0);
        r.forEach((count, predicted) => cells.push({ method: label, actual, predicted, count, rate: total > 0 ? count / total : 0 }));
      });
    }
    figures.push(confusionFigure(cells, 'summed over seeds; last evaluation of each run'));
  }

  // Files.
  const out = path.resolve(options.out);
  fs.mkdirSync(out, { recursive: true });
  const files: string[] = [];
  for (const figure of figures) {
    say(`render ${figure.name}`);
    files.push(...(await writeFigure(figure, out)));
  }
  const accuracy = accuracyTable(summary);
  const pairedT = pairedTable(paired);
  // Selection gap: the selected checkpoint's accuracy next to the oracle-selected one's.
  const selectGroups = new Map<string, SelectionRow & { s: number[]; o: number[] }>();
  for (const row of rows) {
    const oracle = runById.get(row.runId)!.latest['final/target_test_acc_oracle'];
    if (oracle == null || Number.isNaN(oracle) || row.adapter === 'target') continue;
    const selectBy = runById.get(row.runId)!.params['select.by'] ?? 'source-val';
    const id = `${row.benchmark}\u0000${row.setting}\u0000${row.method}\u0000${selectBy}`;
    const g = selectGroups.get(id) ?? { benchmark: row.benchmark, setting: row.setting, method: row.method, selectBy, n: 0, selected: 0, oracle: 0, s: [], o: [] };
    g.s.push(row.value);
    g.o.push(oracle);
    selectGroups.set(id, g);
  }
  const selection = [...selectGroups.values()].map(({ s, o, ...g }) => ({ ...g, n: s.length, selected: mean(s), oracle: mean(o) }));
  const selectionT = selectionTable(selection);
  const write = (name: string, text: string) => {
    fs.writeFileSync(path.join(out, name), text);
    files.push(path.join(out, name));
  };
  write('tables.md', `# Results\n\n${toMarkdown(accuracy)}\n${paired.length > 0 ? toMarkdown(pairedT) + '\n' : ''}${selection.length > 0 ? toMarkdown(selectionT) : ''}`);
  write('tables.tex', `${toLatex(accuracy, 'accuracy')}\n${paired.length > 0 ? toLatex(pairedT, 'paired') + '\n' : ''}${selection.length > 0 ? toLatex(selectionT, 'selection') : ''}`);
  write('runs.csv', aq.from(rows).toCSV());
  const summaryTable = aq.from(summary.map((s) => ({ ...s, seeds: s.seeds.join(' ') })));
  const pairedRows = paired.map((p) => ({ benchmark: p.benchmark, setting: p.setting, method: p.method, diff_vs_source: p.meanDiff, diff_std: p.stdDiff, pairs: p.n, t: p.t, p_value: p.p, test: p.test }));
  const keys = ['benchmark', 'setting', 'method'];
  write('summary.csv', (pairedRows.length > 0 ? summaryTable.join_left(aq.from(pairedRows), [keys, keys]) : summaryTable).toCSV());
  const intro = `${runs.length} runs from <code>${options.from.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</code>; metric <code>${metric}</code>; made by dalab ${DALAB_VERSION} on ${new Date().toISOString().slice(0, 10)}.`;
  write(
    'index.html',
    reportHtml({
      title: `dalab report${options.experiments?.length ? `: ${options.experiments.join(', ')}` : ''}`,
      intro,
      figures,
      tables: [
        { title: 'Accuracy', html: toHtml(accuracy) },
        ...(paired.length > 0 ? [{ title: 'Paired comparison with source', html: toHtml(pairedT) }] : []),
        ...(selection.length > 0 ? [{ title: 'Model selection gap', html: toHtml(selectionT) }] : []),
      ],
      notes: [...notes, ...(skippedText ? [`runs left out${skippedText}`] : [])],
    }),
  );
  return { out, runs: runs.length, figures: figures.map((f) => f.name), files, skipped, notes };
}
