/**
 * What every figure kind shares: the Figure a kind produces, the Vega-Lite types its spec is
 * written in, the top level (schema, title, the one theme of ../theme.ts), panels (a facet per
 * benchmark and setting), the percent and 95% CI mapping of accuracies (they arrive as fractions
 * and are drawn in percent) and the CI bar layer.
 */
import type { SignalRef } from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import type { Field } from 'vega-lite/types_unstable/channeldef.js';
import type { Encoding } from 'vega-lite/types_unstable/encoding.js';
import type { ExprRef } from 'vega-lite/types_unstable/expr.js';
import type { Header } from 'vega-lite/types_unstable/header.js';
import type { DataMixins } from 'vega-lite/types_unstable/spec/base.js';
import type { GenericFacetSpec, LayerSpec, UnitSpec, UnitSpecWithFrame } from 'vega-lite/types_unstable/spec/index.js';
import { themeConfig } from '../theme.js';
import { percent, PERCENT_FORMAT } from '../format.js';
import { ci95HalfWidth, mean } from '../stats.js';

export interface Figure {
  /** File stem: comparison, learning_curves, ... */
  name: string;
  title: string;
  caption: string;
  spec: TopLevelSpec;
  /** Data rows drawn; each becomes at least one mark (the HTML test checks this). */
  rows: number;
}

/** A layered view. */
export type Layer = LayerSpec<Field>;
/** A single view (one mark). */
export type Unit = UnitSpec<Field>;
/** One encoding channel's definition: Channel<'x'>, Channel<'color'>, ... */
export type Channel<C extends keyof Encoding<Field>> = NonNullable<Encoding<Field>[C]>;
/** A facet of a view, data inlined. */
export type Facet = GenericFacetSpec<UnitSpecWithFrame<Field>, Layer, Field> & DataMixins;
/** What a figure draws below its title: a layered view with its data, or a facet. */
export type Body = (Layer & DataMixins) | Facet;

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
export const ACC_TITLE = 'target test accuracy (%)';
export const ACC_AXIS = { format: '.1~f' };

/** Facet headers break long labels at ' · ' (benchmark · setting · setting). */
export const HEADER: Header<ExprRef | SignalRef> = { labelExpr: "split(datum.value, ' · ')", labelLimit: 320 };

/** A fraction in percent, rounded as the tables round it (../format.ts). */
export const pct = percent;

/** Fewer seeds than this: figures draw the seeds and their range instead of a Student-t interval. */
export const MIN_SEEDS_FOR_CI = 3;

/** A group of per-seed values as a figure draws it, in percent. */
export interface Spread {
  mean: number;
  /** The interval drawn: the 95% Student-t CI (3+ seeds, clipped to what the value can be) or the seeds' range. */
  low: number;
  high: number;
  n: number;
  interval: '95% CI' | 'range';
}

/**
 * Mean and interval of per-seed values (fractions) in percent: the 95% CI with 3 or more seeds, the
 * range of the seeds with fewer (a t-interval on 2 seeds is wider than anything it could say);
 * clipped to [clipLow, clipHigh] percent ([0, 100] for an accuracy).
 */
export function spread(values: readonly number[], clipLow = 0, clipHigh = 100): Spread {
  const m = mean(values);
  const ci = values.length >= MIN_SEEDS_FOR_CI;
  const half = ci ? ci95HalfWidth(values) : 0;
  const low = ci ? m - half : Math.min(...values);
  const high = ci ? m + half : Math.max(...values);
  return { mean: pct(m), low: clipPct(low, clipLow, clipHigh), high: clipPct(high, clipLow, clipHigh), n: values.length, interval: ci ? '95% CI' : 'range' };
}

/** A fraction in percent, clipped to [clipLow, clipHigh]. */
const clipPct = (x: number, clipLow: number, clipHigh: number) => Math.min(clipHigh, Math.max(clipLow, pct(x)));

/** The subtitle part that says what the intervals of a figure are ('bars' or 'band'). */
export function spreadNote(spreads: readonly { interval: Spread['interval'] }[], what: 'bars' | 'band'): string {
  const ranges = spreads.filter((s) => s.interval === 'range').length;
  if (ranges === 0) return `mean over seeds, ${what}: 95% CI`;
  if (ranges === spreads.length) return `fewer than ${MIN_SEEDS_FOR_CI} seeds: points are the seeds, ${what} their range (no t-interval)`;
  return `mean over seeds; ${what}: 95% CI with ${MIN_SEEDS_FOR_CI}+ seeds, the seeds' range with fewer (points: seeds)`;
}

/**
 * The per-seed values a figure draws as points: those of groups with fewer than MIN_SEEDS_FOR_CI
 * seeds (and more than one: a single seed is its mean), as rows `kind: 'seed'` beside the groups'
 * rows `kind: 'mean'` in one data set.
 */
export function seedRows<K extends object>(group: K, values: readonly number[], seeds: readonly number[], clipLow = 0, clipHigh = 100): (K & { kind: 'seed'; seed: number; value: number })[] {
  if (values.length < 2 || values.length >= MIN_SEEDS_FOR_CI) return [];
  return values.map((v, i) => ({ ...group, kind: 'seed' as const, seed: seeds[i] ?? i, value: clipPct(v, clipLow, clipHigh) }));
}

export const IS_MEAN = "datum.kind === 'mean'";
export const IS_SEED = "datum.kind === 'seed'";

/** An explicit y domain: the same zoom on every panel of a figure. */
export interface ZoomedScale {
  zero: false;
  nice: false;
  domain: [number, number];
}

/**
 * A y scale zoomed to the data (with a margin of 8% of its span, at least 1 point), inside
 * [clipLow, clipHigh]: point-and-interval figures and curves; bar-like marks keep a zero baseline.
 */
export function zoomedScale(values: readonly { low?: number; high?: number; value?: number; mean?: number }[], clipLow = 0, clipHigh = 100): ZoomedScale {
  const xs = values.flatMap((v) => [v.low, v.high, v.value, v.mean]).filter((x): x is number => x != null && Number.isFinite(x));
  const lo = xs.length > 0 ? Math.min(...xs) : clipLow;
  const hi = xs.length > 0 ? Math.max(...xs) : clipHigh;
  const margin = Math.max(1, 0.08 * (hi - lo));
  return { zero: false, nice: false, domain: [Math.max(clipLow, Math.floor(lo - margin)), Math.min(clipHigh, Math.ceil(hi + margin))] };
}

/** The tooltip fields of a group's mean and interval. */
export function spreadTooltip(first: { field: string; title: string }[]): { field: string; title?: string; format?: string }[] {
  return [
    ...first,
    { field: 'mean', title: 'mean (%)', format: PERCENT_FORMAT },
    { field: 'interval', title: 'interval' },
    { field: 'low', title: 'low (%)', format: PERCENT_FORMAT },
    { field: 'high', title: 'high (%)', format: PERCENT_FORMAT },
    { field: 'n', title: 'seeds' },
  ];
}

/** The interval layer of an accuracy plot (rows of kind 'mean'); it carries the y axis: title, zoomed scale. */
export function intervalRule(x: Channel<'x'>, color: Channel<'color'>, scale: ZoomedScale, title = ACC_TITLE, filter: string = IS_MEAN): Unit {
  return {
    transform: [{ filter }],
    mark: { type: 'rule', strokeWidth: 1.2 },
    encoding: { x, y: { field: 'low', type: 'quantitative', title, scale, axis: ACC_AXIS }, y2: { field: 'high' }, color },
  };
}

/** The per-seed points of an accuracy plot (rows of kind 'seed'; hollow, behind the mean). */
export function seedPointsLayer(x: Channel<'x'>, color: Channel<'color'>, extra: string | null = null): Unit {
  return {
    transform: [{ filter: extra == null ? IS_SEED : `${IS_SEED} && ${extra}` }],
    mark: { type: 'point', filled: false, size: 28, opacity: 0.9 },
    encoding: { x, y: { field: 'value', type: 'quantitative' }, color, tooltip: [{ field: 'method', title: 'strategy' }, { field: 'seed' }, { field: 'value', title: 'value (%)', format: PERCENT_FORMAT }] },
  };
}

/** Label budgets in increasing order, 'all' last. */
export const byBudget = (a: string, b: string) => (a === 'all' ? Infinity : Number(a)) - (b === 'all' ? Infinity : Number(b));

/** One panel per distinct `panel` value: a facet when there are several, a plain layer otherwise. */
export function panels(values: { panel: string }[], layer: Layer, width: number, height: number): Body {
  const distinct = new Set(values.map((v) => v.panel));
  const inner: Layer = { width, height, ...layer };
  if (distinct.size <= 1) return { ...inner, data: { values } };
  const order = [...distinct].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return { data: { values }, facet: { field: 'panel', type: 'nominal', title: null, header: HEADER, sort: order }, columns: 2, spec: inner, resolve: { scale: { x: 'independent', y: 'independent' } } };
}

export function top(title: string, subtitle: string | string[], body: Body): TopLevelSpec {
  return { $schema: SCHEMA, title: { text: title, subtitle }, config: themeConfig(), ...body };
}

export function panelOf(benchmark: string, setting: string): string {
  return setting === '' ? benchmark : `${benchmark} · ${setting.split(', ').join(' · ')}`;
}

/** An aggregate a figure draws: mean, std and 95% CI of a group of runs. */
export interface MeanRow {
  benchmark: string;
  setting: string;
  method: string;
  n: number;
  mean: number;
  std: number;
  ciLow: number;
  ciHigh: number;
  /** The per-seed values, in the order of `seeds`. */
  values: number[];
  seeds: number[];
}
