/**
 * The table `dalab sweep` prints when it ends: per strategy and setting, the mean ± std of a
 * metric over seeds and the paired difference to the lower bound (`source`), computed by
 * ./aggregate.ts (the report's summarise and pairing rule); rows in the order the sweep ran them.
 */
import { pairedVsSource, summarise, type ValueRow } from './aggregate.js';
import { MethodRoles } from './roles.js';
import { percentText, signedPointsText } from './format.js';

export function formatSweepTable(rows: readonly ValueRow[], metric = 'target_test_acc'): string {
  const key = (r: { benchmark: string; setting: string; method: string }) => `${r.benchmark}\u0000${r.setting}\u0000${r.method}`;
  const firstRun = new Map<string, number>();
  rows.forEach((r, i) => {
    if (!firstRun.has(key(r))) firstRun.set(key(r), i);
  });
  const summary = summarise(rows).sort((a, b) => firstRun.get(key(a))! - firstRun.get(key(b))!);
  const paired = new Map(pairedVsSource(rows).map((p) => [key(p), p]));
  const pct = percentText;
  const lines = [`| strategy | setting | n | ${metric} mean ± std (%) | paired diff. to ${new MethodRoles(rows).label('lower-bound')} (%) |`, '|---|---|---|---|---|'];
  for (const r of summary) {
    const p = paired.get(key(r));
    const diff = p == null ? '—' : `${signedPointsText(p.meanDiff)} ± ${pct(p.stdDiff)} (n=${p.n})`;
    lines.push(`| ${r.method} | ${r.setting || '—'} | ${r.n} | ${pct(r.mean)} ± ${pct(r.std)} | ${diff} |`);
  }
  return lines.join('\n');
}
