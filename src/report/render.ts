/**
 * Headless rendering of Vega-Lite specs: compile with vega-lite, run a vega View without a
 * renderer, export SVG (text stays text), and rasterise that SVG to PNG with resvg using the
 * project's own Roboto files (no system fonts: the PNG is the same on every machine).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import * as vl from 'vega-lite';
import * as vega from 'vega';
import { Resvg } from '@resvg/resvg-js';
import type { Figure } from './figures/shared.js';

const require = createRequire(import.meta.url);

function fontFiles(): string[] {
  const dir = path.dirname(require.resolve('@expo-google-fonts/roboto/package.json'));
  return ['400Regular/Roboto_400Regular.ttf', '500Medium/Roboto_500Medium.ttf', '700Bold/Roboto_700Bold.ttf', '400Regular_Italic/Roboto_400Regular_Italic.ttf']
    .map((f) => path.join(dir, f))
    .filter((f) => fs.existsSync(f));
}

/** The compiled Vega spec (throws with vega-lite's message when the spec is invalid). */
export function compile(spec: vl.TopLevelSpec): vega.Spec {
  return vl.compile(spec).spec;
}

export async function toSvg(spec: vl.TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec)), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** PNG at `scale` times the SVG's size (2 = about 144 dpi for the theme's 72 px per inch). */
export function svgToPng(svg: string, scale = 2): Buffer {
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    font: { fontFiles: fontFiles(), loadSystemFonts: false, defaultFontFamily: 'Roboto' },
    background: 'white',
  });
  return resvg.render().asPng();
}

/** Writes NAME.vl.json, NAME.svg and NAME.png into dir; returns the three paths. */
export async function writeFigure(figure: Figure, dir: string): Promise<string[]> {
  fs.mkdirSync(dir, { recursive: true });
  const svg = await toSvg(figure.spec);
  const files = [path.join(dir, `${figure.name}.vl.json`), path.join(dir, `${figure.name}.svg`), path.join(dir, `${figure.name}.png`)];
  fs.writeFileSync(files[0]!, JSON.stringify(figure.spec, null, 1) + '\n');
  fs.writeFileSync(files[1]!, svg);
  fs.writeFileSync(files[2]!, svgToPng(svg));
  return files;
}
