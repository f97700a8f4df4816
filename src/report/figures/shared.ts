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

/** A fraction in percent, to two decimals. */
export const pct = (x: number) => Math.round(x * 10000) / 100;

/** mean and 95% CI in percent; without a CI (a single seed) the bar collapses to the mean. */
export function pctCi(r: { mean: number; ciLow: number; ciHigh: number }): { mean: number; ciLow: number; ciHigh: number } {
  return { mean: pct(r.mean), ciLow: pct(Number.isNaN(r.ciLow) ? r.mean : r.ciLow), ciHigh: pct(Number.isNaN(r.ciHigh) ? r.mean : r.ciHigh) };
}

/** The 95% CI bar layer of an accuracy plot. */
export function ciRule(x: Channel<'x'>, color: Channel<'color'>, extra: Pick<Unit, 'transform'> = {}): Unit {
  return { ...extra, mark: { type: 'rule', strokeWidth: 1 }, encoding: { x, y: { field: 'ciLow', type: 'quantitative', title: ACC_TITLE, scale: { zero: false }, axis: ACC_AXIS }, y2: { field: 'ciHigh' }, color } };
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
}
