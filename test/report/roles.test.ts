/**
 * Roles from tags: the lower bound and the oracle are told apart by dalab.family and
 * dalab.target_labels, whatever the strategy's name; runs without those tags (stores of an earlier
 * dalab) by the names source and target, with the same report.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'ava';
import { tempDir } from '../helpers.js';
import { writeStore, type FixtureRun } from './store.js';
import { loadRuns } from '../../src/report/runs.js';
import { pairedVsSource, runRows, summarise, withSourceAcrossLabels } from '../../src/report/aggregate.js';
import { MethodRoles, roleOf } from '../../src/report/roles.js';
import { accuracyTable, pairedTable, toMarkdown } from '../../src/report/tables.js';
import { writeReport } from '../../src/report/report.js';
import { FIGURE_KINDS } from '../../src/report/figures/index.js';
import { FigureRegistry, drawn } from '../../src/report/figures/registry.js';
import { comparison } from '../../src/report/figures/comparison.js';
import { reportContext } from '../../src/report/context.js';

test('the role rule: tags first, the strategy name only for runs without them', (t) => {
  t.is(roleOf({ adapter: 'erm', family: 'baseline', targetLabels: 'never' }), 'lower-bound');
  t.is(roleOf({ adapter: 'labelled', family: 'baseline', targetLabels: 'oracle' }), 'oracle');
  t.is(roleOf({ adapter: 'joint', family: 'baseline', targetLabels: 'required' }), 'method');
  t.is(roleOf({ adapter: 'source', family: 'alignment', targetLabels: 'never' }), 'method', 'the tags decide, not the name');
  t.is(roleOf({ adapter: 'source' }), 'lower-bound');
  t.is(roleOf({ adapter: 'target' }), 'oracle');
  t.is(roleOf({ adapter: 'dann' }), 'method');
  t.is(roleOf({ adapter: 'source', family: 'baseline' }), 'lower-bound', 'one tag alone: classified by name');
});

const RENAMED = {
  erm: { family: 'baseline', targetLabels: 'never' },
  labelled: { family: 'baseline', targetLabels: 'oracle' },
} as const;

test('a lower bound and an oracle with other names: pairing, order, bold and reference lines follow the tags', async (t) => {
  const root = tempDir('dalab-report-');
  await writeStore(root, 'renamed', [
    { adapter: 'erm', seed: 0, acc: 0.6, strategy: RENAMED.erm },
    { adapter: 'erm', seed: 1, acc: 0.62, strategy: RENAMED.erm },
    { adapter: 'dann', seed: 0, acc: 0.65 },
    { adapter: 'dann', seed: 1, acc: 0.66 },
    { adapter: 'labelled', seed: 0, acc: 0.97, strategy: RENAMED.labelled },
    { adapter: 'labelled', seed: 1, acc: 0.96, strategy: RENAMED.labelled },
  ]);
  const { runs } = await loadRuns({ from: root });
  const rows = runRows(runs);
  const roles = new MethodRoles(rows);
  t.deepEqual(roles.named('lower-bound'), ['erm']);
  t.deepEqual(roles.named('oracle'), ['labelled']);
  t.deepEqual(roles.order(['labelled', 'dann', 'erm']), ['erm', 'dann', 'labelled']);
  const paired = pairedVsSource(rows);
  t.deepEqual(paired.map((p) => p.method), ['dann', 'labelled']);
  t.true(Math.abs(paired[0]!.meanDiff - 0.045) < 1e-9);
  const md = toMarkdown(accuracyTable(summarise(rows), roles));
  t.regex(md, /\| erm \| 61\.0 ± 1\.4 \|\n\| dann \| \*\*65\.5 ± 0\.7\*\* \|\n\| labelled \| 96\.5 ± 0\.7 \|/, 'the oracle is last and never bold');
  t.regex(md, /labelled is the oracle/);
  t.regex(toMarkdown(pairedTable(paired, roles)), /Δ vs erm \(pp\)/);
  const context = reportContext(runs, rows, { column: 'single', embedding: false, say: () => undefined });
  const spec = JSON.stringify(comparison.build(context.summary, context));
  t.true(spec.includes(`"filter":"datum.kind === 'mean' && datum.method === 'erm'"`) && spec.includes(`"filter":"datum.kind === 'mean' && datum.method === 'labelled'"`));
  t.true(spec.includes('dashed: erm only; dotted: labelled oracle'));
});

test('the lower bound stands in for every label setting by role, not by name', async (t) => {
  const root = tempDir('dalab-report-');
  await writeStore(root, 'labels', [
    { adapter: 'erm', seed: 0, acc: 0.6, strategy: RENAMED.erm },
    { adapter: 'joint', seed: 0, acc: 0.8, labels: 10 },
  ]);
  const rows = runRows((await loadRuns({ from: root })).runs);
  const summary = withSourceAcrossLabels(summarise(rows), rows);
  t.deepEqual(summary.filter((s) => s.method === 'erm').map((s) => s.setting).sort(), ['target.labels=0', 'target.labels=10']);
});

/** Runs with the reference strategies, two label settings, finetune freeze depths and artifacts. */
function sweepRuns(): FixtureRun[] {
  const runs: FixtureRun[] = [];
  for (const seed of [0, 1, 2]) {
    runs.push({ adapter: 'source', seed, acc: 0.6 + 0.01 * seed, artifacts: seed === 0 });
    runs.push({ adapter: 'dann', seed, acc: 0.64 + 0.012 * seed, artifacts: seed === 0 });
    runs.push({ adapter: 'target', seed, acc: 0.97 - 0.002 * seed, artifacts: seed === 0 });
    runs.push({ adapter: 'dann', seed, acc: 0.8 + 0.005 * seed, labels: 10 });
    runs.push({ adapter: 'joint', seed, acc: 0.82 + 0.004 * seed, labels: 10 });
  }
  for (const freeze of [0, 2]) for (const seed of [0, 1]) runs.push({ adapter: 'finetune', seed, acc: 0.7 - 0.02 * freeze + 0.01 * seed, labels: 10, freeze });
  return runs;
}

const OUTPUTS = ['tables.md', 'tables.tex', 'summary.csv'];

test('legacy runs (no role tags) and tagged runs give the same report; the same runs give the same index.html', async (t) => {
  const tagged = tempDir('dalab-report-');
  const legacy = tempDir('dalab-report-');
  await writeStore(tagged, 'roles', sweepRuns());
  await writeStore(legacy, 'roles', sweepRuns().map((r) => ({ ...r, legacy: true })));
  const legacyRuns = (await loadRuns({ from: legacy })).runs;
  t.true(legacyRuns.every((r) => r.tags['dalab.family'] == null), 'the legacy store has no role tags');
  t.true((await loadRuns({ from: tagged })).runs.every((r) => r.tags['dalab.family'] != null));
  const out = tempDir('dalab-report-out-');
  const a = await writeReport({ from: tagged, out: path.join(out, 'tagged') });
  const b = await writeReport({ from: legacy, out: path.join(out, 'legacy') });
  const again = await writeReport({ from: tagged, out: path.join(out, 'again') });
  // Every kind but skip_training_loss (it needs runs that differ only in model.backbone.skip).
  t.deepEqual(a.figures, FIGURE_KINDS.list().map((k) => k.name).filter((n) => n !== 'skip_training_loss' && n !== 'published_vs_measured'));
  t.deepEqual(b.figures, a.figures);
  t.deepEqual(b.notes, a.notes);
  const read = (dir: string, file: string) => fs.readFileSync(path.join(dir, file), 'utf8');
  for (const file of [...OUTPUTS, ...a.figures.map((f) => `${f}.vl.json`)]) t.is(read(b.out, file), read(a.out, file), file);
  // runs.csv: the same rows but for the run ids (each store has its own).
  const sansIds = (dir: string) => read(dir, 'runs.csv').replace(/^[0-9a-f]{32},/gm, '');
  t.is(sansIds(b.out), sansIds(a.out));
  t.regex(read(a.out, 'runs.csv'), /^runId,benchmark,setting,settingSansLabels,method,adapter,seed,labels,freeze,value\n/, 'the role is no column');
  t.regex(read(a.out, 'tables.md'), /target is the oracle/);
  t.regex(read(a.out, 'tables.md'), /Δ vs source/);
  t.is(read(again.out, 'index.html'), read(a.out, 'index.html'), 'index.html depends on the runs only (no date)');
});

test('the registry keeps registration order and refuses a name twice', (t) => {
  t.deepEqual(
    FIGURE_KINDS.list().map((k) => k.name),
    ['published_vs_measured', 'paired_difference', 'comparison', 'learning_curves', 'label_budget', 'freeze_depth', 'embedding', 'domain_distance', 'confusion_matrix', 'gradient_flow', 'skip_training_loss'],
  );
  const registry = new FigureRegistry().register(comparison);
  const copy = { ...comparison, gather: () => drawn([]) };
  t.throws(() => registry.register(copy), { message: /'comparison' is already registered/ });
  t.is(registry.list().length, 1);
});
