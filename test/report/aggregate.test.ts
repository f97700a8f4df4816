import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dalab, tempDir } from '../helpers.js';
import { writeStore } from './store.js';
import { loadRuns } from '../../src/report/runs.js';
import { pairedVsSource, runRows, summarise, withSourceAcrossLabels } from '../../src/report/aggregate.js';
import { accuracyTable, pairedTable, toLatex, toMarkdown } from '../../src/report/tables.js';
import { MethodRoles } from '../../src/report/roles.js';

const close = (a: number, b: number, tol = 1e-9) => Math.abs(a - b) < tol;

async function handStore() {
  const root = tempDir('dalab-report-');
  // A sweep parent (no strategy) and a failed run: both left out.
  const [parent] = await writeStore(root, 'hand', [{ adapter: 'source', seed: 9, acc: 0.1, status: 'FAILED' }]);
  await writeStore(root, 'hand', [
    { adapter: 'source', seed: 0, acc: 0.6 },
    { adapter: 'source', seed: 1, acc: 0.62 },
    { adapter: 'source', seed: 2, acc: 0.64 },
    { adapter: 'dann', seed: 0, acc: 0.65, parentRunId: parent! },
    { adapter: 'dann', seed: 1, acc: 0.66 },
    { adapter: 'dann', seed: 2, acc: 0.7 },
  ]);
  return root;
}

test('mean, std, 95% CI and the paired t-test equal the values computed by hand', async (t) => {
  const root = await handStore();
  const { runs, skipped } = await loadRuns({ from: `file:${root}` });
  t.is(runs.length, 6);
  t.deepEqual(skipped, { 'status FAILED': 1 });
  const rows = runRows(runs);
  const summary = summarise(rows);
  const source = summary.find((s) => s.method === 'source')!;
  const dann = summary.find((s) => s.method === 'dann')!;
  // source: 0.60, 0.62, 0.64 -> mean 0.62, std sqrt((0.02² + 0 + 0.02²) / 2) = 0.02,
  // 95% CI half-width t(0.975, 2) * 0.02 / sqrt(3) with t(0.975, 2) = 4.302652729911275.
  t.true(close(source.mean, 0.62));
  t.true(close(source.std, 0.02));
  t.true(close(source.ciHigh - source.mean, (4.302652729911275 * 0.02) / Math.sqrt(3)));
  t.deepEqual(source.seeds, [0, 1, 2]);
  // dann: 0.65, 0.66, 0.70 -> mean 0.67, std sqrt((0.0004 + 0.0001 + 0.0009) / 2) = sqrt(0.0007).
  t.true(close(dann.mean, 0.67));
  t.true(close(dann.std, Math.sqrt(0.0007)));
  // Paired by seed: differences 0.05, 0.04, 0.06 -> mean 0.05, std 0.01, t = 0.05 / (0.01 / sqrt 3),
  // df 2: two-sided p = 1 - |t| / sqrt(t² + 2) (Student-t with 2 degrees of freedom in closed form).
  const [paired] = pairedVsSource(rows);
  t.is(paired!.method, 'dann');
  t.is(paired!.n, 3);
  t.true(close(paired!.meanDiff, 0.05));
  t.true(close(paired!.stdDiff, 0.01));
  const tStat = 0.05 / (0.01 / Math.sqrt(3));
  t.true(close(paired!.t, tStat, 1e-6));
  t.true(close(paired!.p, 1 - tStat / Math.sqrt(tStat * tStat + 2), 1e-9));

  const md = toMarkdown(accuracyTable(summary, new MethodRoles(rows)));
  t.regex(md, /\| source \| 62\.0 ± 2\.0 \|/);
  t.regex(md, /\| dann \| \*\*67\.0 ± 2\.6\*\* \|/);
  const tex = toLatex(pairedTable(pairedVsSource(rows), new MethodRoles(rows)), 'paired');
  t.regex(tex, /\\toprule/);
  t.regex(tex, /dann & \\textbf\{\+5\.0 \$\\pm\$ 1\.0\} & 3 & 8\.66 & 0\.013 \\\\/);
  // Captions name the compared metric (dalab report --metric).
  t.regex(md, /^Target test accuracy \(%\)/m);
  t.regex(toMarkdown(accuracyTable(summary, new MethodRoles(rows), 'final/target_val_acc')), /^Target validation accuracy \(%\)/m);
  t.regex(toMarkdown(pairedTable(pairedVsSource(rows), new MethodRoles(rows), 'final/target_val_acc')), /difference in target validation accuracy/);
});

test('pairs only seeds both strategies ran; filters and --parent select runs', async (t) => {
  const root = await handStore();
  await writeStore(root, 'hand', [{ adapter: 'dann', seed: 7, acc: 0.9 }]);
  const all = await loadRuns({ from: root });
  const [paired] = pairedVsSource(runRows(all.runs));
  t.is(paired!.n, 3, 'seed 7 has no source run to pair with');
  t.is(summarise(runRows(all.runs)).find((s) => s.method === 'dann')!.n, 4);
  const filtered = await loadRuns({ from: root, filters: ['adapter.name=dann'] });
  t.is(filtered.runs.length, 4);
  t.is(filtered.skipped['filtered out'], 4, 'the failed source run is filtered out first');
  const either = await loadRuns({ from: root, filters: ['adapter.name=dann|source', 'train.seed=1'] });
  t.is(either.runs.length, 2);
  const parentId = all.runs.find((r) => r.tags['mlflow.parentRunId'] != null)!.tags['mlflow.parentRunId']!;
  t.is((await loadRuns({ from: root, parent: parentId })).runs.length, 1);
});

test('a varied setting splits the comparison; strategy options that vary make methods', async (t) => {
  const root = tempDir('dalab-report-');
  await writeStore(root, 'labels', [
    { adapter: 'source', seed: 0, acc: 0.6 },
    { adapter: 'source', seed: 0, acc: 0.8, labels: 10 },
    { adapter: 'dann', seed: 0, acc: 0.7 },
    { adapter: 'dann', seed: 0, acc: 0.85, labels: 10 },
  ]);
  const rows = runRows((await loadRuns({ from: root })).runs);
  t.deepEqual(
    rows.map((r) => `${r.method}|${r.setting}`).sort(),
    ['dann|target.labels=0', 'dann|target.labels=10', 'source|target.labels=0', 'source|target.labels=10'],
  );
  const paired = pairedVsSource(rows);
  t.deepEqual(
    paired.map((p) => [p.setting, Math.round(p.meanDiff * 100)]),
    [
      ['target.labels=0', 10],
      ['target.labels=10', 5],
    ],
  );
});

test('an option logged only where it was set (mmd layers) makes a method of its own among runs of one dalab version, not across versions', async (t) => {
  const root = tempDir('dalab-report-');
  const layers = { 'adapter.layers': '["fc2","logits"]' };
  await writeStore(root, 'variants', [
    { adapter: 'source', seed: 0, acc: 0.6, version: '0.2.0' },
    { adapter: 'mmd', seed: 0, acc: 0.7, version: '0.2.0' },
    { adapter: 'mmd', seed: 0, acc: 0.75, version: '0.2.0', params: layers },
  ]);
  t.deepEqual(runRows((await loadRuns({ from: root })).runs).map((r) => r.method).sort(), ['mmd (layers=-)', 'mmd (layers=["fc2","logits"])', 'source']);
  // A run of an older dalab that did not log the key is not another method.
  const old = tempDir('dalab-report-');
  await writeStore(old, 'versions', [
    { adapter: 'mmd', seed: 0, acc: 0.7, version: '0.1.0' },
    { adapter: 'mmd', seed: 1, acc: 0.75, version: '0.2.0', params: layers },
  ]);
  t.deepEqual(runRows((await loadRuns({ from: old })).runs).map((r) => r.method), ['mmd', 'mmd']);
});

test('a store without source runs: no paired rows, and dalab report still writes its files', async (t) => {
  const root = tempDir('dalab-report-');
  await writeStore(root, 'nosource', [
    { adapter: 'finetune', seed: 0, acc: 0.8, labels: 10, freeze: 0 },
    { adapter: 'finetune', seed: 0, acc: 0.7, labels: 10, freeze: 2 },
  ]);
  const rows = runRows((await loadRuns({ from: root })).runs);
  t.deepEqual(pairedVsSource(rows), []);
  const out = path.join(tempDir(), 'r');
  const r = dalab(['report', '--from', root, '--out', out, '--no-embedding']);
  t.is(r.status, 0, r.stderr);
  t.true(fs.existsSync(path.join(out, 'freeze_depth.png')) && fs.existsSync(path.join(out, 'summary.csv')));
});

test('a method run with target labels pairs with source run once (source never reads them)', async (t) => {
  const root = tempDir('dalab-report-');
  await writeStore(root, 'labels', [
    { adapter: 'source', seed: 0, acc: 0.6 },
    { adapter: 'source', seed: 1, acc: 0.62 },
    { adapter: 'dann', seed: 0, acc: 0.58 },
    { adapter: 'dann', seed: 1, acc: 0.61 },
    { adapter: 'joint', seed: 0, acc: 0.8, labels: 10 },
    { adapter: 'joint', seed: 1, acc: 0.85, labels: 10 },
  ]);
  const { runs } = await loadRuns({ from: `file:${root}` });
  const paired = pairedVsSource(runRows(runs));
  const joint = paired.find((p) => p.method === 'joint')!;
  const dann = paired.find((p) => p.method === 'dann')!;
  t.is(joint.setting, 'target.labels=10');
  t.deepEqual(joint.seeds, [0, 1]);
  t.true(close(joint.meanDiff, (0.2 + 0.23) / 2));
  t.is(dann.setting, 'target.labels=0');
  t.true(close(dann.meanDiff, (-0.02 - 0.01) / 2));
  // Tables and the comparison figure show the source reference in the labelled column as well.
  const summary = withSourceAcrossLabels(summarise(runRows(runs)), runRows(runs));
  const sources = summary.filter((r) => r.method === 'source').map((r) => [r.setting, r.n, Number(r.mean.toFixed(6))]);
  t.deepEqual(sources, [['target.labels=0', 2, 0.61], ['target.labels=10', 2, 0.61]]);
});
