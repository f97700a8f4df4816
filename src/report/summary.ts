/**
 * Summary of a set of runs: per strategy (and any other varied setting except the seed), mean and
 * standard deviation of a metric over seeds, and the paired difference to `source` over the seeds
 * both have (same seed, same other settings).
 */
import { mean, std } from './stats.js';

export interface RunRecord {
  /** Strategy name. */
  adapter: string;
  seed: number;
  /** The other varied settings, as a stable key ('' when none). */
  group: string;
  metrics: Record<string, number>;
}

export interface SummaryRow {
  adapter: string;
  group: string;
  n: number;
  mean: number;
  std: number;
  /** Paired difference to `source` (mean and std over the common seeds), absent for source itself. */
  diffMean?: number;
  diffStd?: number;
  diffN?: number;
}

function meanStd(values: number[]): { mean: number; std: number } {
  return { mean: mean(values), std: std(values) };
}

export function summarise(runs: readonly RunRecord[], metric = 'target_test_acc', baseline = 'source'): SummaryRow[] {
  const keys = [...new Set(runs.map((r) => `${r.adapter}\u0000${r.group}`))];
  return keys.map((key) => {
    const [adapter, group] = key.split('\u0000') as [string, string];
    const mine = runs.filter((r) => r.adapter === adapter && r.group === group && Number.isFinite(r.metrics[metric]));
    const stats = meanStd(mine.map((r) => r.metrics[metric]!));
    const row: SummaryRow = { adapter, group, n: mine.length, ...stats };
    if (adapter !== baseline) {
      const diffs = mine
        .map((r) => {
          const base = runs.find((b) => b.adapter === baseline && b.seed === r.seed && b.group.replace(/(^|;)target\.labels=[^;]*/, '') === r.group.replace(/(^|;)target\.labels=[^;]*/, ''));
          return base == null ? null : r.metrics[metric]! - base.metrics[metric]!;
        })
        .filter((d): d is number => d != null && Number.isFinite(d));
      if (diffs.length > 0) {
        const d = meanStd(diffs);
        row.diffMean = d.mean;
        row.diffStd = d.std;
        row.diffN = diffs.length;
      }
    }
    return row;
  });
}

export function formatSummary(rows: readonly SummaryRow[], metric = 'target_test_acc'): string {
  const pct = (v: number) => (100 * v).toFixed(1);
  const lines = [`| strategy | setting | n | ${metric} mean ± std (%) | paired diff. to source (%) |`, '|---|---|---|---|---|'];
  for (const r of rows) {
    const diff = r.diffMean == null ? '—' : `${r.diffMean >= 0 ? '+' : ''}${pct(r.diffMean)} ± ${pct(r.diffStd!)} (n=${r.diffN})`;
    lines.push(`| ${r.adapter} | ${r.group || '—'} | ${r.n} | ${pct(r.mean)} ± ${pct(r.std)} | ${diff} |`);
  }
  return lines.join('\n');
}
