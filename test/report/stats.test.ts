import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'ava';
import { ROOT } from '../helpers.js';
import { ci95HalfWidth, pairedTTest, studentTCdf, studentTQuantile, std } from '../../src/report/stats.js';

interface Fixtures {
  cdf: { t: number; df: number; value: number }[];
  quantile: { p: number; df: number; value: number }[];
  paired: { a: number[]; b: number[]; t: number; p: number }[];
}
const fixtures = JSON.parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/stats.json'), 'utf8')) as Fixtures;

test('Student-t CDF and quantiles equal SciPy (test/fixtures/make_stats_fixtures.py)', (t) => {
  for (const c of fixtures.cdf) t.true(Math.abs(studentTCdf(c.t, c.df) - c.value) < 1e-10, `cdf(${c.t}; ${c.df}) = ${studentTCdf(c.t, c.df)} vs ${c.value}`);
  for (const q of fixtures.quantile) t.true(Math.abs(studentTQuantile(q.p, q.df) - q.value) < 1e-8 * Math.max(1, Math.abs(q.value)), `ppf(${q.p}; ${q.df})`);
});

test('paired t-test equals scipy.stats.ttest_rel', (t) => {
  for (const f of fixtures.paired) {
    const r = pairedTTest(f.a, f.b);
    t.true(Math.abs(r.t - f.t) < 1e-9 * Math.max(1, Math.abs(f.t)), `t ${r.t} vs ${f.t}`);
    t.true(Math.abs(r.p - f.p) < 1e-10, `p ${r.p} vs ${f.p}`);
    t.is(r.df, f.a.length - 1);
  }
});

test('degenerate samples: one value, zero variance', (t) => {
  t.true(Number.isNaN(ci95HalfWidth([0.5])));
  t.is(std([0.5]), 0);
  t.true(Number.isNaN(pairedTTest([0.5], [0.4]).p));
  t.is(pairedTTest([0.5, 0.6], [0.4, 0.5]).p, 0);
  t.is(pairedTTest([0.5, 0.6], [0.5, 0.6]).p, 1);
});
