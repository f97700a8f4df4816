/**
 * Paper tables from the aggregates: accuracy (mean ± std over seeds, in %) per method and
 * benchmark with the best non-oracle method of each column in bold, and the paired comparison
 * with the lower bound (`source`). Each as Markdown, LaTeX (booktabs) and HTML.
 */
import type { PairedRow, SummaryRow } from './aggregate.js';
import type { MethodRoles } from './roles.js';
import { fixed, percentText, signedPointsText } from './format.js';

export interface Table {
  caption: string;
  header: string[];
  /** Cells; a bold cell is { text, bold: true }. */
  rows: { text: string; bold?: boolean }[][];
  /** Text columns (left-aligned); the others are right-aligned numbers. */
  textColumns: number;
}

/** Text order with numbers compared as numbers (labels=5 before labels=10). */
const natural = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

const f2 = percentText;

function column(r: { benchmark: string; setting: string }): string {
  return r.setting === '' ? r.benchmark : `${r.benchmark} (${r.setting})`;
}

/**
 * Methods as rows, one column per benchmark (and setting); when the runs cover several benchmarks,
 * a last column with each method's mean over the columns (only for a method present in every
 * column). The best non-oracle entry of each column in bold (compared at the printed rounding).
 */
const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** How a caption names the compared metric (`dalab report --metric`). */
export function metricLabel(metric = 'final/target_test_acc'): string {
  const known: Record<string, string> = {
    'final/target_test_acc': 'target test accuracy',
    'final/target_test_acc_last': 'target test accuracy of the last checkpoint',
    'final/target_test_acc_oracle': 'target test accuracy of the checkpoint chosen on labelled target validation data',
    'final/target_val_acc': 'target validation accuracy',
    'final/source_test_acc': 'source test accuracy',
  };
  return known[metric] ?? metric;
}

export function accuracyTable(summary: readonly SummaryRow[], roles: MethodRoles, metric?: string): Table {
  const columns = [...new Set(summary.map(column))].sort(natural);
  const methods = roles.order(summary.map((r) => r.method));
  const isOracle = (m: string) => roles.of(m) === 'oracle';
  const cell = new Map(summary.map((r) => [`${r.method}\u0000${column(r)}`, r]));
  const benchmarks = new Set(summary.map((r) => r.benchmark));
  const meanColumn = benchmarks.size > 1 ? (columns.length === benchmarks.size ? 'Mean' : `Mean (${columns.length} columns)`) : null;
  const meanOf = new Map<string, number>();
  if (meanColumn != null) {
    for (const m of methods) {
      const means = columns.map((c) => cell.get(`${m}\u0000${c}`)?.mean);
      if (means.every((x): x is number => x != null && Number.isFinite(x))) meanOf.set(m, means.reduce((a, b) => a + b, 0) / means.length);
    }
  }
  const printed = (x: number) => Number(f2(x));
  const bestOf = (entries: { method: string; mean: number }[]) => {
    const candidates = entries.filter((e) => !isOracle(e.method)).map((e) => printed(e.mean));
    return candidates.length > 1 ? Math.max(...candidates) : undefined;
  };
  const best = new Map<string, number | undefined>(columns.map((c) => [c, bestOf(summary.filter((r) => column(r) === c))]));
  const bestMean = bestOf([...meanOf].map(([method, mean]) => ({ method, mean })));
  const seeds = [...new Set(summary.map((r) => r.n))].sort((a, b) => a - b).join('/');
  const oracles = methods.filter(isOracle);
  return {
    caption:
      `${capitalise(metricLabel(metric))} (%), mean ± standard deviation over ${seeds} seeds; best non-oracle method of each column in bold` +
      `${meanColumn != null ? '; the last column is the mean over the columns before it (methods run in every column)' : ''}` +
      `${oracles.length > 0 ? `; ${oracles.join(', ')} ${oracles.length > 1 ? 'are the oracles' : 'is the oracle'} (trained on labelled target data)` : ''}.`,
    header: ['Method', ...columns, ...(meanColumn != null ? [meanColumn] : [])],
    textColumns: 1,
    rows: methods.map((m) => [
      { text: m },
      ...columns.map((c) => {
        const r = cell.get(`${m}\u0000${c}`);
        if (r == null) return { text: '–' };
        return { text: r.n > 1 ? `${f2(r.mean)} ± ${f2(r.std)}` : f2(r.mean), bold: !isOracle(m) && best.get(c) === printed(r.mean) };
      }),
      ...(meanColumn != null ? [meanOf.has(m) ? { text: f2(meanOf.get(m)!), bold: !isOracle(m) && bestMean === printed(meanOf.get(m)!) } : { text: '–' }] : []),
    ]),
  };
}

/** Benchmark column, then the lower bound first and the oracle last. */
function byColumnAndMethod(roles: MethodRoles) {
  return (a: { benchmark: string; setting: string; method: string }, b: { benchmark: string; setting: string; method: string }) =>
    natural(column(a), column(b)) || roles.order([a.method, b.method]).indexOf(a.method) - roles.order([a.method, b.method]).indexOf(b.method);
}

export function pairedTable(paired: readonly PairedRow[], roles: MethodRoles, metric?: string): Table {
  const baseline = roles.label('lower-bound');
  const sorted = [...paired].sort(byColumnAndMethod(roles));
  const p = (x: number) => (Number.isNaN(x) ? '–' : x < 0.001 ? '<0.001' : fixed(x, 3));
  return {
    caption: `Paired comparison with ${baseline} over the same seeds: difference in ${metricLabel(metric)} (percentage points, mean ± std of the per-seed differences) and the two-sided paired t-test; bold: p < 0.05.`,
    header: ['Benchmark', 'Method', `Δ vs ${baseline} (pp)`, 'pairs', 't', 'p'],
    textColumns: 2,
    rows: sorted.map((r) => [
      { text: column(r) },
      { text: r.method },
      { text: `${signedPointsText(r.meanDiff)} ± ${f2(r.stdDiff)}`, bold: r.p < 0.05 },
      { text: String(r.n) },
      { text: Number.isFinite(r.t) ? fixed(r.t, 2) : String(r.t) },
      { text: p(r.p) },
    ]),
  };
}

export function toMarkdown(table: Table): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [
    `| ${table.header.map(esc).join(' | ')} |`,
    `|${table.header.map((_, i) => (i < table.textColumns ? ' :-- ' : ' --: ')).join('|')}|`,
    ...table.rows.map((row) => `| ${row.map((c) => (c.bold ? `**${esc(c.text)}**` : esc(c.text))).join(' | ')} |`),
  ];
  return `${lines.join('\n')}\n\n${table.caption}\n`;
}

function latexEscape(s: string): string {
  return s
    .replace(/\\/g, '\\textbackslash{}')
    .replace(/([&%$#_{}])/g, '\\$1')
    .replace(/~/g, '\\textasciitilde{}')
    .replace(/\^/g, '\\textasciicircum{}')
    .replace(/±/g, '$\\pm$')
    .replace(/Δ/g, '$\\Delta$')
    .replace(/–/g, '--')
    .replace(/->/g, '$\\to$')
    .replace(/</g, '$<$');
}

export function toLatex(table: Table, label: string): string {
  const align = table.header.map((_, i) => (i < table.textColumns ? 'l' : 'r')).join('');
  const row = (cells: { text: string; bold?: boolean }[]) => cells.map((c) => (c.bold ? `\\textbf{${latexEscape(c.text)}}` : latexEscape(c.text))).join(' & ') + ' \\\\';
  return [
    '% requires \\usepackage{booktabs}',
    '\\begin{table}[t]',
    '  \\centering',
    `  \\caption{${latexEscape(table.caption)}}`,
    `  \\label{tab:${label}}`,
    `  \\begin{tabular}{${align}}`,
    '    \\toprule',
    `    ${row(table.header.map((text) => ({ text })))}`,
    '    \\midrule',
    ...table.rows.map((r) => `    ${row(r)}`),
    '    \\bottomrule',
    '  \\end{tabular}',
    '\\end{table}',
    '',
  ].join('\n');
}

export function toHtml(table: Table): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const cls = (i: number) => (i < table.textColumns ? '' : ' class="num"');
  return [
    '<table>',
    `<caption>${esc(table.caption)}</caption>`,
    `<thead><tr>${table.header.map((h, i) => `<th${cls(i)}>${esc(h)}</th>`).join('')}</tr></thead>`,
    '<tbody>',
    ...table.rows.map((r) => `<tr>${r.map((c, i) => `<td${cls(i)}>${c.bold ? `<b>${esc(c.text)}</b>` : esc(c.text)}</td>`).join('')}</tr>`),
    '</tbody>',
    '</table>',
  ].join('\n');
}

export interface SelectionRow {
  benchmark: string;
  setting: string;
  method: string;
  selectBy: string;
  n: number;
  selected: number;
  oracle: number;
}

/** The honest-selection gap: target accuracy of the checkpoint chosen by select.by vs chosen on labelled target val. */
export function selectionTable(rows: readonly SelectionRow[], roles: MethodRoles): Table {
  const sorted = [...rows].sort(byColumnAndMethod(roles));
  return {
    caption:
      'Model selection without target labels: target test accuracy (%) of the checkpoint chosen by select.by, of the one chosen on a labelled target validation split (oracle; reference only), and the gap (oracle - selected, percentage points); means over seeds.',
    header: ['Benchmark', 'Method', 'select.by', 'selected', 'oracle', 'gap (pp)', 'seeds'],
    textColumns: 3,
    rows: sorted.map((r) => [{ text: column(r) }, { text: r.method }, { text: r.selectBy }, { text: f2(r.selected) }, { text: f2(r.oracle) }, { text: signedPointsText(r.oracle - r.selected) }, { text: String(r.n) }]),
  };
}
