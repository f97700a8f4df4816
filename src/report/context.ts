/**
 * What every figure kind reads: the runs, one row per run, the aggregates, each method's role and
 * the labels of single-setting figures, computed once per report.
 */
import type { Reference } from '../config/schema.js';
import type { ReportRun } from './runs.js';
import { pairedVsSource, summarise, withSourceAcrossLabels, type PairedRow, type RunRow, type SummaryRow } from './aggregate.js';
import { MethodRoles } from './roles.js';
import type { Column } from './theme.js';

export interface ReportContext {
  readonly runs: readonly ReportRun[];
  /** One row per run that logged the metric. */
  readonly rows: readonly RunRow[];
  /** Per (benchmark, setting, method); the lower bound shown in every label setting of a benchmark. */
  readonly summary: readonly SummaryRow[];
  /** Each method against the lower bound, paired by seed. */
  readonly paired: readonly PairedRow[];
  readonly roles: MethodRoles;
  readonly column: Column;
  /** Whether to draw the UMAP embedding (the slowest figure). */
  readonly embedding: boolean;
  /** Published numbers to compare with (`dalab report --reference`). */
  readonly reference?: Reference;
  runOf(row: RunRow): ReportRun;
  /** One label per method for single-setting figures (embedding, distances, confusion): the method, with its panel when there are several. */
  labelOf(row: RunRow): string;
  /** Per label, its representative run: the lowest seed. */
  readonly representatives: ReadonlyMap<string, { row: RunRow; run: ReportRun }>;
  say(message: string): void;
}

export function reportContext(runs: readonly ReportRun[], rows: readonly RunRow[], options: { column: Column; embedding: boolean; say: (message: string) => void; reference?: Reference }): ReportContext {
  const runById = new Map(runs.map((r) => [r.runId, r]));
  const runOf = (row: RunRow) => runById.get(row.runId)!;
  const panelCount = new Set(rows.map((r) => `${r.benchmark}\u0000${r.setting}`)).size;
  const labelOf = (r: RunRow) => (panelCount > 1 ? [r.method, ...(r.setting === '' ? [r.benchmark] : r.setting.split(', '))].join(' · ') : r.method);
  const representatives = new Map<string, { row: RunRow; run: ReportRun }>();
  for (const row of [...rows].sort((a, b) => a.seed - b.seed)) {
    const label = labelOf(row);
    if (!representatives.has(label)) representatives.set(label, { row, run: runOf(row) });
  }
  return {
    runs,
    rows,
    summary: withSourceAcrossLabels(summarise(rows), rows),
    paired: pairedVsSource(rows),
    roles: new MethodRoles(rows),
    column: options.column,
    embedding: options.embedding,
    ...(options.reference != null ? { reference: options.reference } : {}),
    runOf,
    labelOf,
    representatives,
    say: options.say,
  };
}
