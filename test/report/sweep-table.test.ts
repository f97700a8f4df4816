/**
 * The table `dalab sweep` prints: computed by the report's summarise and pairing rule
 * (src/report/aggregate.ts), formatted by src/report/sweep-table.ts.
 */
import test from 'ava';
import { pairedVsSource, summarise, type ValueRow } from '../../src/report/aggregate.js';
import { roleOf } from '../../src/report/roles.js';
import { formatSweepTable } from '../../src/report/sweep-table.js';

function row(adapter: string, seed: number, value: number, setting = ''): ValueRow {
  return {
    benchmark: 'synth-digits->mnist-10k',
    setting,
    settingSansLabels: setting.split(';').filter((s) => s !== '' && !s.startsWith('target.labels=')).join(';'),
    method: adapter,
    adapter,
    role: roleOf({ adapter }),
    seed,
    value,
  };
}

test('summary: mean, sample std and the paired difference to source over common seeds (by hand)', (t) => {
  const rows = [row('source', 0, 0.5), row('source', 1, 0.6), row('source', 2, 0.7), row('dann', 0, 0.6), row('dann', 1, 0.6), row('dann', 2, 0.9)];
  const summary = summarise(rows);
  const source = summary.find((r) => r.method === 'source')!;
  const dann = summary.find((r) => r.method === 'dann')!;
  t.true(Math.abs(source.mean - 0.6) < 1e-12);
  t.true(Math.abs(source.std - 0.1) < 1e-12);
  t.true(Math.abs(dann.mean - 0.7) < 1e-12);
  // Differences 0.1, 0.0, 0.2: mean 0.1, sample std 0.1.
  const paired = pairedVsSource(rows);
  t.deepEqual(paired.map((p) => p.method), ['dann'], 'source itself has no difference');
  t.true(Math.abs(paired[0]!.meanDiff - 0.1) < 1e-12);
  t.true(Math.abs(paired[0]!.stdDiff - 0.1) < 1e-12);
  t.is(paired[0]!.n, 3);
  t.is(
    formatSweepTable(rows),
    [
      '| strategy | setting | n | target_test_acc mean ± std (%) | paired diff. to source (%) |',
      '|---|---|---|---|---|',
      '| source | — | 3 | 60.0 ± 10.0 | — |',
      '| dann | — | 3 | 70.0 ± 17.3 | +10.0 ± 10.0 (n=3) |',
    ].join('\n'),
  );
});

test('rows in the order the sweep ran them; a labelled strategy pairs with source run without labels', (t) => {
  const rows = [
    row('source', 0, 0.3),
    row('source', 1, 0.2),
    row('mmd', 0, 0.25),
    row('joint', 0, 0.7, 'target.labels=5'),
    row('joint', 1, 0.6, 'target.labels=5'),
    row('joint', 0, 0.8, 'target.labels=10'),
  ];
  t.is(
    formatSweepTable(rows),
    [
      '| strategy | setting | n | target_test_acc mean ± std (%) | paired diff. to source (%) |',
      '|---|---|---|---|---|',
      '| source | — | 2 | 25.0 ± 7.1 | — |',
      '| mmd | — | 1 | 25.0 ± 0.0 | -5.0 ± 0.0 (n=1) |',
      '| joint | target.labels=5 | 2 | 65.0 ± 7.1 | +40.0 ± 0.0 (n=2) |',
      '| joint | target.labels=10 | 1 | 80.0 ± 0.0 | +50.0 ± 0.0 (n=1) |',
    ].join('\n'),
  );
});
