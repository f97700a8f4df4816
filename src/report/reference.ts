/**
 * Published against measured (issue 35): an experiment file's `reference:` block (benchmark ->
 * strategy -> the paper's number, with its citation) beside the report's runs. One row per
 * published number: the published value, dalab's mean ± std over seeds, the difference, whether it
 * is reproduced (at or above the published value, or less than `tolerance` points below), the
 * target-validation oracle of the same runs in its own column, and each run's budget (steps of all
 * phases, images per domain). A published number without runs says so.
 */
import * as fs from 'node:fs';
import { z } from 'zod';
import { readExperimentFile, describeIssue } from '../config/load.js';
import { referenceSchema, type Reference } from '../config/schema.js';
import { UserError, messages } from '../messages.js';
import type { ReportRun } from './runs.js';
import type { RunRow } from './aggregate.js';
import { mean, std } from './stats.js';
import { fixed } from './format.js';
import type { Table } from './tables.js';

/** The `reference:` block of an experiment file (or of a YAML file holding only that block). */
export function loadReference(file: string): Reference {
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new UserError(messages.referenceFileNotFound(file));
  const raw = readExperimentFile(file);
  if (raw['reference'] == null) throw new UserError(messages.referenceMissing(file));
  const parsed = referenceSchema.safeParse(raw['reference']);
  if (!parsed.success) {
    const { field, detail } = describeIssue(parsed.error.issues[0]!, referenceSchema as z.ZodType, ['reference']);
    throw new UserError(messages.configField(file, field, detail));
  }
  return parsed.data;
}

/**
 * Several files' blocks as one: each number keeps its own block's citation and tolerance; a
 * benchmark and strategy given twice takes the later file's number.
 */
export function mergeReferences(references: readonly Reference[]): Reference {
  if (references.length === 1) return references[0]!;
  const values: Reference['values'] = {};
  for (const ref of references) {
    for (const [benchmark, methods] of Object.entries(ref.values)) {
      for (const [strategy, entry] of Object.entries(methods)) {
        const { value, tolerance = ref.tolerance, cite = ref.cite } = typeof entry === 'number' ? { value: entry } : entry;
        (values[benchmark] ??= {})[strategy] = { value, tolerance, cite };
      }
    }
  }
  return { cite: references.map((r) => r.cite).join('; '), tolerance: references[0]!.tolerance, values };
}

/** 'mnist-10k -> usps', 'mnist-10k->usps' and 'mnist-10k → usps' name one benchmark. */
export const benchmarkKey = (name: string): string => name.replace(/\s*(->|→)\s*/g, '->').trim();

export type Verdict = 'above' | 'within' | 'below' | 'not run';

export interface ReferenceRow {
  benchmark: string;
  /** The strategy as the reference names it. */
  strategy: string;
  /** The report's method (the strategy, with options when they vary); the strategy when not run. */
  method: string;
  published: number;
  tolerance: number;
  cite: string;
  /** In percent; NaN when not run. */
  mean: number;
  std: number;
  n: number;
  diff: number;
  verdict: Verdict;
  /** Mean of final/target_test_acc_oracle (the checkpoint chosen on labelled target validation data), percent. */
  oracle: number;
  /** Optimiser steps of every phase of one run (the source phase of adda and shot included). */
  steps: number;
  /** Images of each domain one run draws: steps x batch size. */
  images: number;
}

function budget(run: ReportRun): { steps: number; images: number } {
  const steps = Number(run.params['train.steps'] ?? NaN) + Number(run.params['adapter.pretrainSteps'] ?? 0);
  return { steps, images: steps * Number(run.params['train.batchSize'] ?? NaN) };
}

/** One row per published number, in the reference's order; rows: the report's rows of its metric (fractions). */
export function referenceRows(reference: Reference, rows: readonly RunRow[], runOf: (row: RunRow) => ReportRun): ReferenceRow[] {
  const out: ReferenceRow[] = [];
  for (const [benchmark, methods] of Object.entries(reference.values)) {
    for (const [strategy, entry] of Object.entries(methods)) {
      const { value: published, tolerance = reference.tolerance, cite = reference.cite } = typeof entry === 'number' ? { value: entry } : entry;
      const mine = rows.filter((r) => benchmarkKey(r.benchmark) === benchmarkKey(benchmark) && r.adapter === strategy && r.role !== 'oracle');
      const variants = [...new Set(mine.map((r) => `${r.method}\u0000${r.setting}`))];
      const base = { benchmark, strategy, published, tolerance, cite };
      if (variants.length === 0) {
        out.push({ ...base, method: strategy, mean: NaN, std: NaN, n: 0, diff: NaN, verdict: 'not run', oracle: NaN, steps: NaN, images: NaN });
        continue;
      }
      for (const variant of variants) {
        const group = mine.filter((r) => `${r.method}\u0000${r.setting}` === variant);
        const values = group.map((r) => r.value * 100);
        const m = mean(values);
        const diff = m - published;
        const oracle = group.map((r) => (runOf(r).latest['final/target_test_acc_oracle'] ?? NaN) * 100);
        const { steps, images } = budget(runOf(group[0]!));
        const setting = group[0]!.setting;
        out.push({
          ...base,
          method: setting === '' ? group[0]!.method : `${group[0]!.method} (${setting})`,
          mean: m,
          std: values.length > 1 ? std(values) : 0,
          n: values.length,
          diff,
          verdict: diff >= 0 ? 'above' : diff >= -tolerance ? 'within' : 'below',
          oracle: mean(oracle),
          steps,
          images,
        });
      }
    }
  }
  return out;
}

const num = (x: number, digits = 1) => (Number.isFinite(x) ? fixed(x, digits) : '–');
const signed = (x: number) => (!Number.isFinite(x) ? '–' : x > 0 && num(x) !== '0.0' ? `+${num(x)}` : num(x));
const count = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
const VERDICT: Record<Verdict, string> = { above: 'yes (above)', within: 'yes (within)', below: 'no', 'not run': 'not run' };

/** The published-vs-measured table; its caption names the citations and the metric. */
export function referenceTable(rows: readonly ReferenceRow[], metricLabel: string): Table {
  const cites = [...new Set(rows.map((r) => r.cite))];
  return {
    caption: `Published against measured: ${metricLabel} (%), dalab mean ± std over seeds (n), and the same runs' checkpoint chosen on labelled target validation data (oracle, for reference only). Reproduced: at or above the published number, or less than its tolerance below. Published: ${cites.join('; ')}.`,
    header: ['Benchmark', 'Strategy', 'Published', 'dalab', 'n', 'Δ', 'Tolerance', 'Reproduced', 'Oracle', 'Steps', 'Images / domain'],
    rows: rows.map((r) => [
      { text: r.benchmark },
      { text: r.method },
      { text: num(r.published) },
      { text: r.n === 0 ? '–' : `${num(r.mean)} ± ${num(r.std)}` },
      { text: String(r.n) },
      { text: signed(r.diff) },
      { text: num(r.tolerance) },
      { text: VERDICT[r.verdict], bold: r.verdict === 'below' },
      { text: num(r.oracle) },
      { text: count(r.steps) },
      { text: count(r.images) },
    ]),
    textColumns: 2,
  };
}

/** reference.csv: the rows as numbers. */
export function referenceCsv(rows: readonly ReferenceRow[]): string {
  const header = ['benchmark', 'strategy', 'method', 'published', 'tolerance', 'mean', 'std', 'n', 'diff', 'verdict', 'oracle', 'steps', 'images', 'cite'];
  const quote = (v: string | number) => (typeof v === 'number' ? (Number.isFinite(v) ? String(Number(v.toFixed(4))) : '') : /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return [header.join(','), ...rows.map((r) => [r.benchmark, r.strategy, r.method, r.published, r.tolerance, r.mean, r.std, r.n, r.diff, r.verdict, r.oracle, r.steps, r.images, r.cite].map(quote).join(','))].join('\n') + '\n';
}
