/**
 * From runs to the numbers a paper states, with arquero: one row per run (benchmark, setting,
 * method, seed, metric), then per (benchmark, setting, method) the mean, sample standard
 * deviation and Student-t 95% confidence interval over seeds, and the paired comparison of each
 * method with the lower bound (`source`) over the seeds both have (same benchmark and setting):
 * mean difference and a two-sided paired t-test. Both the report and the table `dalab sweep`
 * prints are computed here.
 *
 * - setting: the non-strategy config keys that vary between runs of a benchmark (e.g.
 *   `target.labels=10`), seed excluded;
 * - method: the strategy, plus its own options when those vary between its runs (e.g.
 *   `mmd (weight=2)`); options that only tell strategies apart travel with the strategy;
 * - role: lower bound, oracle or method (./roles.ts), read once per run from its tags.
 */
import * as aq from 'arquero';
import type { ReportRun } from './runs.js';
import { domainName, shortBenchmark } from '../config/names.js';
import { ADDED_SINCE_0_2 } from '../config/load.js';
import { runRole, type Role } from './roles.js';
import { ci95HalfWidth, mean, pairedTTest, std, type PairedTest } from './stats.js';

/** One value of one run: what summarise and the pairing with the lower bound read. */
export interface ValueRow {
  benchmark: string;
  setting: string;
  /** The setting without `target.labels` (what the lower bound, which never reads target labels, pairs on). */
  settingSansLabels: string;
  method: string;
  adapter: string;
  role: Role;
  seed: number;
  value: number;
}

export interface RunRow extends ValueRow {
  runId: string;
  /** Labelled target images per class: '0', 'N' or 'all'. */
  labels: string;
  /** `adapter.freeze` of finetune runs, else ''. */
  freeze: string;
}

/** The columns of runs.csv, in order (the role is derived from tags, not measured: not a column). */
export const RUN_COLUMNS = ['runId', 'benchmark', 'setting', 'settingSansLabels', 'method', 'adapter', 'seed', 'labels', 'freeze', 'value'] as const satisfies readonly (keyof RunRow)[];

export interface SummaryRow {
  benchmark: string;
  setting: string;
  method: string;
  adapter: string;
  n: number;
  mean: number;
  std: number;
  ciLow: number;
  ciHigh: number;
  seeds: number[];
  /** The per-seed values, in the order of `seeds`. */
  values: number[];
}

export interface PairedRow extends PairedTest {
  benchmark: string;
  setting: string;
  method: string;
  seeds: number[];
  /** Per seed (in the order of `seeds`): the method's value minus the lower bound's. */
  diffs: number[];
}

/** Config keys that never make a setting: the seed, names, the datasets (the benchmark names them) and where runs are tracked. */
const IGNORED = [/^train\.seed$/, /^name$/, /^tracking\./, /^sweep/, /^(source|target)\.(dataset|name)$/];

function variedKeys(runs: readonly ReportRun[], keep: (key: string) => boolean): string[] {
  const keys = new Set<string>();
  const params = (r: ReportRun) => withDefaults(r.params);
  for (const r of runs) for (const k of Object.keys(r.params)) if (keep(k) && !IGNORED.some((re) => re.test(k))) keys.add(k);
  // A key some runs lack varies if the runs that have it disagree, or if a run of the same dalab
  // version lacks it (an option whose default is not logged, e.g. mmd's layers, set in some runs
  // only); runs of another version may simply predate the key.
  const version = (r: ReportRun) => r.tags['dalab.version'] ?? '';
  return [...keys]
    .filter((k) => {
      const having = runs.filter((r) => params(r)[k] != null);
      if (new Set(having.map((r) => params(r)[k])).size > 1) return true;
      const versions = new Set(having.map(version));
      return runs.some((r) => params(r)[k] == null && versions.has(version(r)));
    })
    .sort();
}

/** A run that predates a key added since 0.2 had its default. */
const withDefaults = (params: Record<string, string>): Record<string, string> => ({ ...ADDED_SINCE_0_2, ...params });
const distinct = (runs: readonly ReportRun[], key: string): number => new Set(runs.map((r) => withDefaults(r.params)[key] ?? '')).size;

/**
 * What a `train.*` or `model.*` key that varies among a benchmark's runs is, comparing strategies
 * (experiments/reproduce/: each strategy under its paper's optimiser, schedule or bottleneck):
 * - 'recipe': it differs between strategies but not among one strategy's runs: part of the method;
 * - 'variant': it varies among some strategies' runs but not all: those methods' recipes, named in
 *   their method label;
 * - 'setting': it varies among every strategy's runs (or there is one strategy): a column of its own.
 */
function recipeKind(key: string, byAdapter: ReadonlyMap<string, readonly ReportRun[]>): 'recipe' | 'variant' | 'setting' {
  if (byAdapter.size < 2 || !(key.startsWith('train.') || key.startsWith('model.'))) return 'setting';
  const varying = [...byAdapter.values()].filter((runs) => distinct(runs, key) > 1).length;
  if (varying === 0) return 'recipe';
  return varying < byAdapter.size ? 'variant' : 'setting';
}

function describe(params: Record<string, string>, keys: readonly string[], strip = ''): string {
  return keys.map((k) => `${k.startsWith(strip) ? k.slice(strip.length) : k}=${params[k] ?? '-'}`).join(', ');
}

/** The run's benchmark in display names (tags written before domain names existed are shortened). */
function benchmarkOf(run: ReportRun): string {
  const tag = run.tags['dalab.benchmark'];
  if (tag != null) return shortBenchmark(tag);
  const domain = (side: 'source' | 'target') => domainName({ dataset: run.params[`${side}.dataset`] ?? '?', name: run.params[`${side}.name`] });
  return `${domain('source')}->${domain('target')}`;
}

/** One row per run; `metric` is a logged metric key (default `final/target_test_acc`). */
export function runRows(runs: readonly ReportRun[], metric = 'final/target_test_acc'): RunRow[] {
  const rows: RunRow[] = [];
  const byBenchmark = new Map<string, ReportRun[]>();
  for (const r of runs) byBenchmark.set(benchmarkOf(r), [...(byBenchmark.get(benchmarkOf(r)) ?? []), r]);
  for (const [benchmark, list] of byBenchmark) {
    const byAdapter = new Map<string, ReportRun[]>();
    for (const r of list) byAdapter.set(r.tags['dalab.adapter']!, [...(byAdapter.get(r.tags['dalab.adapter']!) ?? []), r]);
    const varied = variedKeys(list, (k) => !k.startsWith('adapter.'));
    const kinds = new Map(varied.map((k) => [k, recipeKind(k, byAdapter)]));
    const settingKeys = varied.filter((k) => kinds.get(k) === 'setting');
    for (const [adapter, own] of byAdapter) {
      const optionKeys = variedKeys(own, (k) => k.startsWith('adapter.') && k !== 'adapter.name');
      // A recipe key that varies among this strategy's runs only: two recipes of one method (adda with and without dropout).
      const recipeVariants = varied.filter((k) => kinds.get(k) === 'variant' && distinct(own, k) > 1);
      for (const r of own) {
        const value = r.latest[metric];
        if (value == null || Number.isNaN(value)) continue;
        const variant = [describe(r.params, optionKeys, 'adapter.'), describe(withDefaults(r.params), recipeVariants)].filter((t) => t !== '').join(', ');
        rows.push({
          runId: r.runId,
          benchmark,
          setting: describe(r.params, settingKeys),
          settingSansLabels: describe(r.params, settingKeys.filter((k) => k !== 'target.labels')),
          method: variant === '' ? adapter : `${adapter} (${variant})`,
          adapter,
          role: runRole(r.tags),
          seed: Number(r.params['train.seed'] ?? r.tags['dalab.seed'] ?? 0),
          labels: r.params['target.labels'] ?? '0',
          freeze: adapter === 'finetune' ? (r.params['adapter.freeze'] ?? '0') : '',
          value,
        });
      }
    }
  }
  return rows;
}

/** Mean, std and 95% CI per (benchmark, setting, method). */
export function summarise(rows: readonly ValueRow[]): SummaryRow[] {
  return summariseBy(rows, ['benchmark', 'setting', 'method', 'adapter']);
}

/** Mean, std and 95% CI per group of the given columns; the group's columns are kept. */
export function summariseBy<R extends ValueRow, K extends keyof R & string>(rows: readonly R[], groupBy: readonly K[]): (SummaryRow & Pick<R, K>)[] {
  if (rows.length === 0) return [];
  const table = aq
    .from([...rows])
    .groupby(...groupBy)
    .rollup({ values: aq.op.array_agg('value'), seeds: aq.op.array_agg('seed') })
    .derive({
      n: aq.escape((d: { values: number[] }) => d.values.length),
      mean: aq.escape((d: { values: number[] }) => mean(d.values)),
      std: aq.escape((d: { values: number[] }) => std(d.values)),
      half: aq.escape((d: { values: number[] }) => ci95HalfWidth(d.values)),
    })
    .derive({ ciLow: (d: { mean: number; half: number }) => d.mean - d.half, ciHigh: (d: { mean: number; half: number }) => d.mean + d.half })
    .orderby(...groupBy)
    .select(aq.not('half'));
  return (table.objects() as (SummaryRow & Pick<R, K>)[]).map((row) => {
    const bySeed = row.seeds.map((seed, i) => ({ seed, value: row.values[i]! })).sort((a, b) => a.seed - b.seed);
    return {
      ...row,
      benchmark: row.benchmark ?? '',
      setting: row.setting ?? '',
      method: row.method ?? '',
      adapter: row.adapter ?? '',
      seeds: bySeed.map((p) => p.seed),
      values: bySeed.map((p) => p.value),
    };
  });
}

/**
 * The lower bound never reads target labels: where a setting that differs only in `target.labels`
 * has no lower-bound run, its lower-bound row is that of the other label setting (so tables and the
 * comparison figure show the reference in every column, as the paired comparison uses it).
 */
export function withSourceAcrossLabels(summary: readonly SummaryRow[], rows: readonly ValueRow[]): SummaryRow[] {
  const sansLabels = new Map(rows.map((r) => [`${r.benchmark}|${r.setting}`, r.settingSansLabels]));
  const lowerBound = new Set(rows.filter((r) => r.role === 'lower-bound').map((r) => r.method));
  const isBaseline = (s: SummaryRow) => lowerBound.has(s.method);
  const panels = new Set(summary.map((s) => `${s.benchmark}|${s.setting}`));
  const withBaseline = new Set(summary.filter(isBaseline).map((s) => `${s.benchmark}|${s.setting}`));
  const added: SummaryRow[] = [];
  for (const panel of panels) {
    if (withBaseline.has(panel)) continue;
    const key = sansLabels.get(panel);
    const donor = summary.find((s) => isBaseline(s) && sansLabels.get(`${s.benchmark}|${s.setting}`) === key && panel.startsWith(`${s.benchmark}|`));
    if (donor != null) added.push({ ...donor, setting: panel.slice(donor.benchmark.length + 1) });
  }
  return [...summary, ...added];
}

/**
 * Each method against the lower bound (`source`) in the same benchmark and setting, paired by
 * seed. The lower bound never reads target labels, so a method run with labels (e.g. joint at 10
 * per class) pairs with the lower-bound run of the same seed at another `target.labels` when the
 * sweep ran it only once.
 */
export function pairedVsSource(rows: readonly ValueRow[]): PairedRow[] {
  const isBaseline = (r: ValueRow) => r.role === 'lower-bound';
  if (!rows.some(isBaseline) || rows.every(isBaseline)) return [];
  // One baseline value per key even if the lower bound was run twice with the same seed (the first).
  const exact = new Map<string, number>();
  const anyLabels = new Map<string, number>();
  for (const r of rows) {
    if (!isBaseline(r)) continue;
    const e = `${r.benchmark}|${r.setting}|${r.seed}`;
    const a = `${r.benchmark}|${r.settingSansLabels}|${r.seed}`;
    if (!exact.has(e)) exact.set(e, r.value);
    if (!anyLabels.has(a)) anyLabels.set(a, r.value);
  }
  const baselineOf = (d: ValueRow) => exact.get(`${d.benchmark}|${d.setting}|${d.seed}`) ?? anyLabels.get(`${d.benchmark}|${d.settingSansLabels}|${d.seed}`) ?? null;
  const paired = rows.filter((r) => !isBaseline(r) && baselineOf(r) != null).map((r) => ({ ...r, baseline: baselineOf(r)! }));
  if (paired.length === 0) return [];
  const joined = aq
    .from(paired)
    .orderby('benchmark', 'setting', 'method', 'seed')
    .groupby('benchmark', 'setting', 'method')
    .rollup({ values: aq.op.array_agg('value'), baselines: aq.op.array_agg('baseline'), seeds: aq.op.array_agg('seed') });
  return (joined.objects() as { benchmark: string; setting: string; method: string; values: number[]; baselines: number[]; seeds: number[] }[]).map((g) => ({
    benchmark: g.benchmark,
    setting: g.setting,
    method: g.method,
    seeds: g.seeds,
    diffs: g.values.map((v, i) => v - g.baselines[i]!),
    ...pairedTTest(g.values, g.baselines),
  }));
}
