/**
 * `dalab report`: tracked runs -> aggregates (arquero) -> figures (Vega-Lite -> SVG, PNG) ->
 * tables (Markdown, LaTeX) -> one offline index.html. The same runs give the same files (no date,
 * no random seed that is not fixed).
 *
 * The pipeline (writeReport):
 *   1. load     the query's finished dalab training runs (./runs.ts);
 *   2. rows     one row per run that logged the metric: benchmark, setting, method, seed, value and
 *               the role its tags give it (./aggregate.ts, ./roles.ts);
 *   3. context  what every figure reads, computed once: aggregates, paired comparison, each
 *               method's role, labels and representative runs (./context.ts);
 *   4. figures  each registered kind in order (./figures/index.ts): its figure, or the note saying
 *               why it is not drawn;
 *   5. render   each figure as NAME.vl.json, NAME.svg and NAME.png (./render.ts);
 *   6. tables   accuracy, paired comparison and model-selection gap as tables.md and tables.tex
 *               (./tables.ts), the rows as runs.csv, the aggregates as summary.csv;
 *   7. html     index.html: every table and figure, the notes (./html.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as aq from 'arquero';
import { loadRuns, type RunQuery } from './runs.js';
import { RUN_COLUMNS, runRows } from './aggregate.js';
import { reportContext, type ReportContext } from './context.js';
import { FIGURE_KINDS } from './figures/index.js';
import type { Figure } from './figures/shared.js';
import { mean } from './stats.js';
import { accuracyTable, metricLabel, pairedTable, selectionTable, toHtml, toLatex, toMarkdown, type SelectionRow } from './tables.js';
import { referenceCsv, referenceRows, referenceTable } from './reference.js';
import type { Reference } from '../config/schema.js';
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
  /** Published numbers (an experiment file's `reference:` block): the published-vs-measured table and figure. */
  reference?: Reference;
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

/** Selection gap: the selected checkpoint's accuracy next to the oracle-selected one's, per method and select.by. */
function selectionRows({ rows, runOf }: ReportContext): SelectionRow[] {
  const groups = new Map<string, SelectionRow & { s: number[]; o: number[] }>();
  for (const row of rows) {
    const run = runOf(row);
    const oracle = run.latest['final/target_test_acc_oracle'];
    if (oracle == null || Number.isNaN(oracle) || row.role === 'oracle') continue;
    const selectBy = run.params['select.by'] ?? 'source-val';
    const id = `${row.benchmark}\u0000${row.setting}\u0000${row.method}\u0000${selectBy}`;
    const g = groups.get(id) ?? { benchmark: row.benchmark, setting: row.setting, method: row.method, selectBy, n: 0, selected: 0, oracle: 0, s: [], o: [] };
    g.s.push(row.value);
    g.o.push(oracle);
    groups.set(id, g);
  }
  return [...groups.values()].map(({ s, o, ...g }) => ({ ...g, n: s.length, selected: mean(s), oracle: mean(o) }));
}

/**
 * Where the runs came from, as the report prints it: a file store inside the current folder by its
 * relative path, one elsewhere by its last path component (a user's absolute path stays out of a
 * report that is shared); a server without credentials.
 */
export function displayStore(from: string): string {
  if (/^https?:\/\//.test(from)) {
    try {
      const url = new URL(from);
      url.username = '';
      url.password = '';
      return url.toString().replace(/\/$/, '');
    } catch {
      return from.replace(/\/\/[^/@]*@/, '//');
    }
  }
  const file = from.replace(/^file:(\/\/)?/, '');
  const absolute = path.resolve(file);
  const relative = path.relative(process.cwd(), absolute);
  if (relative === '') return 'file:.';
  if (!relative.startsWith('..') && !path.isAbsolute(relative)) return `file:./${relative.split(path.sep).join('/')}`;
  return `file:…/${path.basename(absolute)}`;
}

export async function writeReport(options: ReportOptions): Promise<ReportResult> {
  const say = options.onProgress ?? (() => undefined);
  const metric = options.metric ?? 'final/target_test_acc';

  // 1. load
  const { runs, skipped } = await loadRuns(options);
  const skippedText = Object.keys(skipped).length > 0 ? ` (left out: ${Object.entries(skipped).map(([k, v]) => `${v} ${k}`).join(', ')})` : '';
  if (runs.length === 0) throw new UserError(messages.reportNoRuns(options.from, skippedText));
  // 2. rows
  const rows = runRows(runs, metric);
  if (rows.length === 0) throw new UserError(messages.reportNoMetric(metric, runs.length));
  say(`${runs.length} runs${skippedText}`);
  // 3. context
  const context = reportContext(runs, rows, { column: options.column ?? 'single', embedding: options.embedding !== false, say, ...(options.reference != null ? { reference: options.reference } : {}) });
  // 4. figures
  const figures: Figure[] = [];
  const notes: string[] = [];
  for (const kind of FIGURE_KINDS.list()) {
    const drawn = await kind.draw(context);
    if ('figure' in drawn) figures.push(drawn.figure);
    else if (drawn.note != null) notes.push(drawn.note);
  }

  // 5. render
  const out = path.resolve(options.out);
  fs.mkdirSync(out, { recursive: true });
  const files: string[] = [];
  for (const figure of figures) {
    say(`render ${figure.name}`);
    files.push(...(await writeFigure(figure, out)));
  }
  const write = (name: string, text: string) => {
    fs.writeFileSync(path.join(out, name), text);
    files.push(path.join(out, name));
  };

  // 6. tables
  const { summary, paired, roles } = context;
  const accuracy = accuracyTable(summary, roles, metric);
  const pairedT = pairedTable(paired, roles, metric);
  const selection = selectionRows(context);
  const selectionT = selectionTable(selection, roles);
  const published = options.reference != null ? referenceRows(options.reference, rows, context.runOf) : [];
  const publishedT = referenceTable(published, metricLabel(metric));
  const publishedMd = published.length > 0 ? `${toMarkdown(publishedT)}\n` : '';
  write('tables.md', `# Results\n\n${publishedMd}${toMarkdown(accuracy)}\n${paired.length > 0 ? toMarkdown(pairedT) + '\n' : ''}${selection.length > 0 ? toMarkdown(selectionT) : ''}`);
  write('tables.tex', `${published.length > 0 ? toLatex(publishedT, 'published') + '\n' : ''}${toLatex(accuracy, 'accuracy')}\n${paired.length > 0 ? toLatex(pairedT, 'paired') + '\n' : ''}${selection.length > 0 ? toLatex(selectionT, 'selection') : ''}`);
  if (published.length > 0) write('reference.csv', referenceCsv(published));
  write('runs.csv', aq.from(rows).select(...RUN_COLUMNS).toCSV());
  const summaryTable = aq.from(summary.map(({ values: _values, ...s }) => ({ ...s, seeds: s.seeds.join(' ') })));
  const pairedRows = paired.map((p) => ({ benchmark: p.benchmark, setting: p.setting, method: p.method, diff_vs_source: p.meanDiff, diff_std: p.stdDiff, pairs: p.n, t: p.t, p_value: p.p, test: p.test }));
  const keys = ['benchmark', 'setting', 'method'];
  write('summary.csv', (pairedRows.length > 0 ? summaryTable.join_left(aq.from(pairedRows), [keys, keys]) : summaryTable).toCSV());

  // 7. html
  const intro = `${runs.length} runs from <code>${displayStore(options.from).replace(/&/g, '&amp;').replace(/</g, '&lt;')}</code>; metric <code>${metric}</code>; made by dalab ${DALAB_VERSION}.`;
  write(
    'index.html',
    reportHtml({
      title: `dalab report${options.experiments?.length ? `: ${options.experiments.join(', ')}` : ''}`,
      intro,
      figures,
      tables: [
        ...(published.length > 0 ? [{ title: 'Published against measured', html: toHtml(publishedT) }] : []),
        { title: 'Accuracy', html: toHtml(accuracy) },
        ...(paired.length > 0 ? [{ title: `Paired comparison with ${roles.label('lower-bound')}`, html: toHtml(pairedT) }] : []),
        ...(selection.length > 0 ? [{ title: 'Model selection gap', html: toHtml(selectionT) }] : []),
      ],
      notes: [...notes, ...(skippedText ? [`runs left out${skippedText}`] : [])],
    }),
  );
  return { out, runs: runs.length, figures: figures.map((f) => f.name), files, skipped, notes };
}
