/**
 * `dalab report` end to end on an offline store: every figure as .vl.json, .svg and .png, the
 * tables, and index.html opened in headless Chromium (Debian's chromium, driven by
 * playwright-core) with no network: no console errors, and every chart draws at least one mark
 * per data row.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'ava';
import { chromium } from 'playwright-core';
import { dalab, tempDir } from '../helpers.js';
import { writeStore, type FixtureRun } from './store.js';
import { compile } from '../../src/report/render.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const inCi = process.env['CI'] === 'true';
const hasChromium = fs.existsSync(CHROMIUM);
// In CI .ci/run installs Debian's chromium, so the browser test must run there.
const browserTest = hasChromium || inCi ? test : test.skip;
if (!hasChromium && !inCi) console.log(`# report browser test skipped: no ${CHROMIUM} (apt-get install chromium)`);

const FIGURES = ['paired_difference', 'comparison', 'learning_curves', 'label_budget', 'freeze_depth', 'embedding', 'domain_distance', 'confusion_matrix', 'gradient_flow'];

async function sweepStore(): Promise<string> {
  const root = tempDir('dalab-report-');
  const runs: FixtureRun[] = [];
  const seeds = [0, 1, 2, 3, 4];
  for (const seed of seeds) {
    runs.push({ adapter: 'source', seed, acc: 0.6 + 0.01 * seed, artifacts: true });
    runs.push({ adapter: 'dann', seed, acc: 0.64 + 0.012 * seed, artifacts: true });
    runs.push({ adapter: 'target', seed, acc: 0.97 - 0.002 * seed, artifacts: true });
    runs.push({ adapter: 'source', seed, acc: 0.75 + 0.01 * seed, labels: 10 });
    runs.push({ adapter: 'dann', seed, acc: 0.8 + 0.005 * seed, labels: 10 });
  }
  for (const freeze of [0, 2, 4]) for (const labels of [10, 50]) for (const seed of [0, 1]) runs.push({ adapter: 'finetune', seed, acc: 0.7 + 0.01 * labels / 10 - 0.02 * freeze + 0.01 * seed, labels, freeze });
  await writeStore(root, 'figures', runs);
  return root;
}

test('dalab report writes every figure (.vl.json, .svg, .png), tables and index.html; each spec compiles', async (t) => {
  const root = await sweepStore();
  const out = path.join(tempDir('dalab-report-out-'), 'report');
  const r = dalab(['report', '--from', `file:${root}`, '--out', out, '--json']);
  t.is(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as { runs: number; figures: string[] };
  t.is(result.runs, 37);
  t.deepEqual([...result.figures].sort(), [...FIGURES].sort());
  for (const name of FIGURES) {
    for (const ext of ['.vl.json', '.svg', '.png']) t.true(fs.statSync(path.join(out, name + ext)).size > 500, `${name}${ext}`);
    const spec = JSON.parse(fs.readFileSync(path.join(out, `${name}.vl.json`), 'utf8'));
    t.notThrows(() => compile(spec), name);
    t.regex(fs.readFileSync(path.join(out, `${name}.svg`), 'utf8'), /<text[^>]*>[^<]+<\/text>/, `${name}.svg keeps text as text`);
    t.deepEqual([...fs.readFileSync(path.join(out, `${name}.png`)).subarray(1, 4)], [0x50, 0x4e, 0x47]);
  }
  const md = fs.readFileSync(path.join(out, 'tables.md'), 'utf8');
  t.regex(md, /\| target \|/);
  t.regex(md, /paired t-test/);
  t.regex(fs.readFileSync(path.join(out, 'tables.tex'), 'utf8'), /\\bottomrule/);
});

browserTest('index.html works offline in headless Chromium: no console errors, every chart draws its data', async (t) => {
  const root = await sweepStore();
  const out = path.join(tempDir('dalab-report-out-'), 'report');
  t.is(dalab(['report', '--from', root, '--out', out]).status, 0);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (req) => {
      if (!req.url().startsWith('file:') && !req.url().startsWith('data:')) requests.push(req.url());
    });
    await page.goto(`file://${path.join(out, 'index.html')}`);
    const charts = await page.evaluate(async () => {
      const report = (window as unknown as { dalabReport: { ready: Promise<unknown>; charts: { id: string; name: string; rows: number }[]; views: Record<string, { scenegraph(): { root: unknown } }>; errors: string[] } }).dalabReport;
      await report.ready;
      interface SceneMark {
        marktype: string;
        role?: string;
        items?: { items?: SceneMark[] }[];
      }
      const count = (mark: SceneMark): number => {
        let n = mark.marktype !== 'group' && mark.role === 'mark' ? (mark.items?.length ?? 0) : 0;
        for (const item of mark.items ?? []) for (const child of item.items ?? []) n += count(child);
        return n;
      };
      return report.charts.map((c) => ({
        name: c.name,
        rows: c.rows,
        marks: report.views[c.id] == null ? -1 : count(report.views[c.id]!.scenegraph().root as SceneMark),
        svg: document.querySelectorAll(`#${c.id} svg`).length,
      }));
    });
    t.deepEqual(errors, []);
    t.deepEqual(requests, [], 'the report loads nothing from the network');
    t.deepEqual(charts.map((c) => c.name).sort(), [...FIGURES].sort());
    t.log(charts.map((c) => `${c.name} ${c.marks}/${c.rows}`).join(', '));
    for (const c of charts) {
      t.true(c.svg >= 1, `${c.name} drew an svg`);
      t.true(c.rows > 0 && c.marks >= c.rows, `${c.name}: ${c.marks} marks for ${c.rows} rows`);
    }
  } finally {
    await browser.close();
  }
});
