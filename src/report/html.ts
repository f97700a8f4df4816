/**
 * index.html: every figure (interactive, with tooltips) and table in one self-contained file that
 * works from disk with no network: vega, vega-lite and vega-embed are inlined from their UMD
 * builds, the Roboto font is inlined as a data URL. `window.dalabReport` exposes each chart's view
 * and data-row count (the browser test counts rendered marks against it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import type { Figure } from './figures/shared.js';

const require = createRequire(import.meta.url);

/** A package's root folder (some packages export no ./package.json). */
function packageDir(pkg: string): string {
  let dir = path.dirname(require.resolve(pkg));
  while (!fs.existsSync(path.join(dir, 'package.json')) || JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name !== pkg) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find the folder of ${pkg}`);
    dir = up;
  }
  return dir;
}

function build(pkg: string, file: string): string {
  const text = fs.readFileSync(path.join(packageDir(pkg), 'build', file), 'utf8');
  // A script's text must not close its own element.
  return text.replace(/<\/script/gi, '<\\/script').replace(/\/\/# sourceMappingURL=\S+/g, '');
}

function fontDataUrl(): string {
  const file = path.join(path.dirname(require.resolve('@expo-google-fonts/roboto/package.json')), '400Regular', 'Roboto_400Regular.ttf');
  return `data:font/ttf;base64,${fs.readFileSync(file).toString('base64')}`;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export interface HtmlSection {
  title: string;
  /** Already-escaped HTML. */
  html: string;
}

export function reportHtml(options: { title: string; intro: string; figures: readonly Figure[]; tables: readonly HtmlSection[]; notes: readonly string[] }): string {
  const charts = options.figures.map((f, i) => ({ id: `chart-${i}`, name: f.name, rows: f.rows, spec: f.spec }));
  const payload = JSON.stringify(charts).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(options.title)}</title>
<style>
@font-face { font-family: 'Roboto'; src: url(${fontDataUrl()}) format('truetype'); }
body { font-family: Roboto, 'Helvetica Neue', Arial, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; padding: 0 1rem; }
h1 { font-weight: 500; } h2 { font-weight: 500; border-bottom: 1px solid #ddd; padding-bottom: .2rem; margin-top: 2.2rem; }
p.caption { color: #555; font-size: .9rem; max-width: 52rem; }
table { border-collapse: collapse; margin: 1rem 0; font-size: .9rem; }
caption { caption-side: bottom; text-align: left; color: #555; font-size: .85rem; padding-top: .4rem; max-width: 52rem; }
th, td { padding: .25rem .7rem; } thead th { border-top: 2px solid #222; border-bottom: 1px solid #222; font-weight: 500; text-align: left; }
tbody tr:last-child td { border-bottom: 2px solid #222; } .num { text-align: right; font-variant-numeric: tabular-nums; }
.chart { margin: .5rem 0 1rem; } .chart svg.marks { zoom: 1.35; } ul.notes { color: #555; font-size: .85rem; }
</style>
<script>${build('vega', 'vega.min.js')}</script>
<script>${build('vega-lite', 'vega-lite.min.js')}</script>
<script>${build('vega-embed', 'vega-embed.min.js')}</script>
</head>
<body>
<h1>${esc(options.title)}</h1>
<p>${options.intro}</p>
${options.tables.map((t) => `<h2>${esc(t.title)}</h2>\n${t.html}`).join('\n')}
${options.figures.map((f, i) => `<h2>${esc(f.title)}</h2>\n<div class="chart" id="chart-${i}"></div>\n<p class="caption">${esc(f.caption)} Files: ${esc(f.name)}.svg, .png, .vl.json.</p>`).join('\n')}
${options.notes.length > 0 ? `<h2>Notes</h2><ul class="notes">${options.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}
<script>
const charts = ${payload};
window.dalabReport = { charts: charts.map(c => ({ id: c.id, name: c.name, rows: c.rows })), views: {}, errors: [], ready: null };
window.dalabReport.ready = Promise.all(charts.map(c =>
  vegaEmbed('#' + c.id, c.spec, { renderer: 'svg', actions: { export: true, source: false, compiled: false, editor: false } })
    .then(r => { window.dalabReport.views[c.id] = r.view; })
    .catch(e => { window.dalabReport.errors.push(c.name + ': ' + e.message); console.error(e); })
));
</script>
</body>
</html>
`;
}
