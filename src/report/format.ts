/**
 * How the report writes numbers, the one rounding of tables (Markdown, LaTeX, HTML) and figures
 * (their data and tooltips): accuracies as percent with one decimal, differences as signed
 * percentage points, never `-0.0`.
 */

/** x with `digits` decimals; a value that rounds to zero is written without a minus sign. */
export function fixed(x: number, digits: number): string {
  const text = x.toFixed(digits);
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
}

/** A fraction as percent with one decimal ('–' when not a number): 0.8234 -> '82.3'. */
export function percentText(x: number): string {
  return Number.isFinite(x) ? fixed(x * 100, 1) : '–';
}

/** The same rounding as a number, for figure data: 0.8234 -> 82.3. */
export function percent(x: number): number {
  return Number(fixed(x * 100, 1));
}

/** A difference of fractions in signed percentage points: 0.031 -> '+3.1', -0.012 -> '-1.2'; one that rounds to zero: '0.0'. */
export function signedPointsText(x: number): string {
  if (!Number.isFinite(x)) return '–';
  const text = percentText(x);
  return text.startsWith('-') || Number(text) === 0 ? text : `+${text}`;
}

/** The Vega format string of the same rounding (tooltips of values already in percent). */
export const PERCENT_FORMAT = '.1f';
