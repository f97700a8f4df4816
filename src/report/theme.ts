/**
 * The one publication theme of every figure: Roboto (shipped with the project, so SVG, PNG and
 * HTML draw the same glyphs), sizes for a single column (3.3 in) or a double column (7 in) at
 * 72 px per inch, and the Okabe-Ito colour-blind-safe palette (yellow last: weak on white).
 */
import type { Config } from 'vega-lite';

export const FONT = 'Roboto';

export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];

/** Plot-area widths in px for one panel. */
export const WIDTH = { single: 200, double: 440 } as const;
export type Column = keyof typeof WIDTH;

export function themeConfig(): Config {
  return {
    font: FONT,
    background: 'white',
    padding: 8,
    view: { stroke: '#888', strokeWidth: 0.5 },
    title: { fontSize: 12, fontWeight: 500, anchor: 'start', offset: 6 },
    axis: {
      labelFontSize: 9,
      titleFontSize: 10,
      titleFontWeight: 500,
      gridColor: '#e6e6e6',
      gridWidth: 0.5,
      domainColor: '#555',
      tickColor: '#555',
      labelColor: '#222',
      titleColor: '#222',
      labelLimit: 160,
    },
    legend: { labelFontSize: 9, titleFontSize: 10, titleFontWeight: 500, symbolSize: 60, symbolOpacity: 1, labelLimit: 220 },
    header: { labelFontSize: 10, titleFontSize: 10, labelFontWeight: 500 },
    range: { category: PALETTE },
    line: { strokeWidth: 1.5 },
    point: { size: 40, filled: true },
  };
}
