/**
 * Reports that read well on real runs: short domain names (never a user's absolute path),
 * intervals inside [0, 100] %, per-seed points and the range below 3 seeds, the paired-difference
 * figure and its agreement with the paired t-test of the tables, no `-0.0`, and the multi-benchmark
 * table with a mean column.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'ava';
import { encodeIdx } from '../../src/data/idx.js';
import { toInputShape } from '../../src/data/preprocess.js';
import { datasetDisplayName, shortBenchmark } from '../../src/config/names.js';
import { studentTQuantile } from '../../src/report/stats.js';
import { dalab, loadDataset, tempDir } from '../helpers.js';
import { writeStore, type FixtureRun } from './store.js';

interface SpecRow {
  kind?: string;
  panel?: string;
  method?: string;
  seed?: number;
  value?: number;
  mean?: number;
  low?: number;
  high?: number;
  n?: number;
  interval?: string;
}
interface Spec {
  title: { text: string; subtitle: string | string[] };
  data: { values: SpecRow[] };
}

const readSpec = (out: string, name: string) => JSON.parse(fs.readFileSync(path.join(out, `${name}.vl.json`), 'utf8')) as Spec;
const subtitle = (spec: Spec) => [spec.title.subtitle].flat().join(' | ');

/** An IDX folder of real digits (a part of the embedded MNIST), as a user's folder of scans. */
function idxFolder(): string {
  const mnist = loadDataset('mnist-10k');
  const folder = path.join(tempDir('dalab-user-'), 'home', 'someone', 'data', 'scans');
  fs.mkdirSync(folder, { recursive: true });
  for (const [prefix, set] of [['train', mnist.train], ['t10k', mnist.test]] as const) {
    const small = toInputShape(set, [28, 28, 1]);
    fs.writeFileSync(path.join(folder, `${prefix}-images-idx3-ubyte`), encodeIdx([small.count, 28, 28], small.images));
    fs.writeFileSync(path.join(folder, `${prefix}-labels-idx1-ubyte`), encodeIdx([small.count], Uint8Array.from(small.labels)));
  }
  return folder;
}

/** Every file of a report a reader sees (runs.csv keeps the params as given, so it is left out). */
function readableFiles(out: string): string[] {
  return fs.readdirSync(out).filter((f) => f !== 'runs.csv' && !f.endsWith('.png')).map((f) => path.join(out, f));
}

test('display names: a folder dataset is named after its last path component, a given name wins', (t) => {
  t.is(datasetDisplayName('idx:/home/user/data/digits'), 'digits');
  t.is(datasetDisplayName('idx:/home/user/data/digits/'), 'digits');
  t.is(datasetDisplayName('folder:C:\\scans\\batch2'), 'batch2');
  t.is(datasetDisplayName('mnist-10k'), 'mnist-10k');
  t.is(shortBenchmark('mnist-10k->idx:/home/user/data/digits'), 'mnist-10k->digits');
  t.is(shortBenchmark('synth-digits->mnist-10k'), 'synth-digits->mnist-10k');
});

test('a sweep on an idx: folder: benchmark named by the folder (or target.name), 2 seeds drawn as points and range, no absolute path in the report', async (t) => {
  const folder = idxFolder();
  const dir = tempDir('dalab-names-');
  const store = path.join(dir, 'store');
  const file = path.join(dir, 'scans.yaml');
  fs.writeFileSync(
    file,
    [
      'name: scans',
      'source: { dataset: mnist-10k }',
      `target: { dataset: "idx:${folder}", labels: 0 }`,
      'model: { backbone: digitnet, input: [28, 28, 1] }',
      'adapter: { name: source }',
      'train: { steps: 16, batchSize: 16, seed: 0, evalEvery: 8 }',
      'select: { by: last }',
      `tracking: { uri: 'file:${store}', experiment: scans }`,
      'sweep:',
      '  adapter: [{ name: source }, { name: mmd }]',
      '  train.seed: [0, 1]',
      '',
    ].join('\n'),
  );
  const sweep = dalab(['sweep', file, '--workers', '1']);
  t.is(sweep.status, 0, sweep.stderr);
  t.false(sweep.stdout.includes(folder), 'the sweep table names the folder, not its path');
  // One more run with a name for the target domain.
  const named = dalab(['run', file, '--set', 'target.name=scanned', '--set', 'tracking.experiment=scans-named', '--json']);
  t.is(named.status, 0, named.stderr);

  const out = path.join(dir, 'report');
  const report = dalab(['report', '--experiment', 'scans', '--from', `file:${store}`, '--out', out]);
  t.is(report.status, 0, report.stderr);
  const md = fs.readFileSync(path.join(out, 'tables.md'), 'utf8');
  t.regex(md, /mnist-10k->scans/);
  for (const f of readableFiles(out)) {
    const text = fs.readFileSync(f, 'utf8');
    t.false(text.includes(folder), `${path.basename(f)} holds the dataset's path`);
    t.false(text.includes(dir), `${path.basename(f)} holds an absolute path of the user's`);
  }
  t.true(fs.readFileSync(path.join(out, 'runs.csv'), 'utf8').includes('mnist-10k->scans'));

  // Two seeds: the figures draw the seeds and their range, and say so.
  for (const name of ['comparison', 'learning_curves', 'paired_difference']) {
    const spec = readSpec(out, name);
    t.regex(subtitle(spec), /fewer than 3 seeds: points are the seeds/, name);
    const means = spec.data.values.filter((v) => v.kind === 'mean');
    t.true(means.length > 0 && means.every((m) => m.interval === 'range'), name);
    for (const m of means) t.true(m.low! <= m.mean! && m.mean! <= m.high!, `${name}: ${JSON.stringify(m)}`);
  }
  const comparison = readSpec(out, 'comparison');
  const seedPoints = comparison.data.values.filter((v) => v.kind === 'seed');
  t.deepEqual(seedPoints.map((p) => `${p.method}/${p.seed}`).sort(), ['mmd/0', 'mmd/1', 'source/0', 'source/1']);
  for (const m of comparison.data.values.filter((v) => v.kind === 'mean')) {
    const own = seedPoints.filter((p) => p.method === m.method).map((p) => p.value!);
    t.is(m.low, Math.min(...own));
    t.is(m.high, Math.max(...own));
  }
  const paired = readSpec(out, 'paired_difference');
  t.deepEqual(paired.data.values.filter((v) => v.kind === 'seed').map((p) => `${p.method}/${p.seed}`).sort(), ['mmd/0', 'mmd/1']);

  const namedOut = path.join(dir, 'report-named');
  t.is(dalab(['report', '--experiment', 'scans-named', '--from', `file:${store}`, '--out', namedOut]).status, 0);
  t.regex(fs.readFileSync(path.join(namedOut, 'tables.md'), 'utf8'), /mnist-10k->scanned/);
  t.is(readSpec(namedOut, 'comparison').data.values[0]!.panel, 'mnist-10k->scanned');
});

/** Values chosen so that wide t-intervals would leave [0, 100] and some numbers round to -0.0. */
function edgeRuns(): FixtureRun[] {
  const runs: FixtureRun[] = [];
  // mmd is 0.03-0.05 pp below source on every seed (a mean difference that rounds to 0.0).
  const accs = { source: [0.9, 0.99, 0.95, 0.97], dann: [0.93, 0.9999, 0.9996, 0.99], target: [0.995, 0.999, 0.998, 0.9995], mmd: [0.8996, 0.9897, 0.9495, 0.9696] };
  for (const [adapter, values] of Object.entries(accs)) {
    values.forEach((acc, seed) => runs.push({ adapter, seed, acc, curve: [acc - 0.5, acc, Math.min(1, acc + 0.001)], oracleAcc: acc - 0.0003 }));
  }
  // A second benchmark (the multi-benchmark table), on 3 seeds.
  for (const seed of [0, 1, 2]) {
    runs.push({ adapter: 'source', seed, acc: 0.4 + 0.01 * seed, benchmark: 'mnist-10k->synth-digits' });
    runs.push({ adapter: 'dann', seed, acc: 0.45 + 0.02 * seed, benchmark: 'mnist-10k->synth-digits' });
    runs.push({ adapter: 'mmd', seed, acc: 0.5 + 0.012 * seed, benchmark: 'mnist-10k->synth-digits' });
  }
  return runs;
}

test('intervals stay in [0, 100]; the paired-difference interval is the paired t-test of the tables; no -0.0; a mean column over benchmarks', async (t) => {
  const root = tempDir('dalab-edge-');
  await writeStore(root, 'edge', edgeRuns());
  const out = path.join(tempDir('dalab-edge-out-'), 'report');
  const r = dalab(['report', '--from', `file:${root}`, '--out', out, '--json']);
  t.is(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as { figures: string[] };
  t.is(result.figures[0], 'paired_difference', 'index.html shows the paired differences first');

  for (const name of ['comparison', 'learning_curves']) {
    const spec = readSpec(out, name);
    for (const v of spec.data.values) for (const x of [v.low, v.high, v.value, v.mean]) if (x != null) t.true(x >= 0 && x <= 100, `${name}: ${JSON.stringify(v)}`);
    t.true(spec.data.values.some((v) => v.high === 100), `${name}: a wide interval is clipped at 100`);
    t.regex(subtitle(spec), /95% CI/);
  }
  // The comparison's y axis zooms to the data instead of starting at 0.
  const comparison = JSON.stringify(readSpec(out, 'comparison'));
  const domain = /"domain":\[(\d+),(\d+)\]/.exec(comparison);
  t.truthy(domain);
  t.true(Number(domain![1]) > 20 && Number(domain![2]) <= 100, comparison.slice(0, 200));

  // Paired differences: one point per (method, seed), the interval mean ± t(.975, n-1) sd / √n.
  const paired = readSpec(out, 'paired_difference');
  const seedRows = paired.data.values.filter((v) => v.kind === 'seed');
  // dann, mmd and the oracle against source on 4 seeds; dann and mmd on 3 in the second benchmark.
  t.is(seedRows.length, 3 * 4 + 2 * 3);
  t.is(new Set(seedRows.map((p) => `${p.panel}/${p.method}/${p.seed}`)).size, seedRows.length);
  const summary = fs.readFileSync(path.join(out, 'summary.csv'), 'utf8').trim().split('\n');
  const header = summary[0]!.split(',');
  const col = (row: string[], name: string) => row[header.indexOf(name)]!;
  let checked = 0;
  for (const line of summary.slice(1)) {
    const row = line.split(',');
    if (col(row, 'diff_vs_source') === '') continue;
    const benchmark = col(row, 'benchmark');
    const method = col(row, 'method');
    const mean = paired.data.values.find((v) => v.kind === 'mean' && v.method === method && v.panel === benchmark)!;
    const n = Number(col(row, 'pairs'));
    const half = studentTQuantile(0.975, n - 1) * Number(col(row, 'diff_std')) / Math.sqrt(n) * 100;
    const diff = Number(col(row, 'diff_vs_source')) * 100;
    t.true(Math.abs(mean.mean! - diff) <= 0.051, `${method} mean ${mean.mean} vs ${diff}`);
    t.true(Math.abs(mean.low! - Math.max(-100, diff - half)) <= 0.051, `${method} low ${mean.low} vs ${diff - half}`);
    t.true(Math.abs(mean.high! - Math.min(100, diff + half)) <= 0.051, `${method} high ${mean.high} vs ${diff + half}`);
    // The t statistic of the table: mean / (sd / √n).
    const tStatistic = diff / ((Number(col(row, 'diff_std')) * 100) / Math.sqrt(n));
    t.true(Math.abs(Number(col(row, 't')) - tStatistic) < 1e-6 * Math.max(1, Math.abs(tStatistic)), `${benchmark} ${method}: t ${col(row, 't')} vs ${tStatistic}`);
    checked++;
  }
  t.is(checked, 5);

  // No -0.0 anywhere a reader looks (mmd is 0.0004 below source on average; the selection gap is -0.03 pp).
  for (const f of readableFiles(out)) t.false(/-0\.0+(?![0-9])/.test(fs.readFileSync(f, 'utf8')), path.basename(f));
  const md = fs.readFileSync(path.join(out, 'tables.md'), 'utf8');
  t.regex(md, /\| mmd \| \*\*0\.0 ± 0\.0\*\* \|/, 'mmd vs source (-0.04 pp) rounds to 0.0, not -0.0');
  t.regex(md, /\| mmd \| entropy \| 95\.2 \| 95\.2 \| 0\.0 \|/, 'a selection gap of -0.03 pp is 0.0');

  // Two benchmarks: one column each, then their mean; bold marks the best non-oracle entry of each.
  const accuracy = md.split('\n\n').find((block) => block.startsWith('| Method |'))!.split('\n');
  t.deepEqual(accuracy[0]!.split('|').map((c) => c.trim()).filter((c) => c !== ''), ['Method', 'mnist-10k->synth-digits', 'synth-digits->mnist-10k', 'Mean']);
  // By hand: dann 47.0 ± 2.0 and 97.99 ± 3.36 (mean 72.49); mmd 51.2 ± 1.2 and 95.21 ± 3.87 (mean 73.21).
  t.is(accuracy.find((l) => l.startsWith('| dann |')), '| dann | 47.0 ± 2.0 | **98.0 ± 3.4** | 72.5 |');
  t.is(accuracy.find((l) => l.startsWith('| mmd |')), '| mmd | **51.2 ± 1.2** | 95.2 ± 3.9 | **73.2** |');
  t.regex(accuracy.find((l) => l.startsWith('| target |'))!, /\| – \|$/, 'a method missing from a benchmark gets no mean');
  t.regex(fs.readFileSync(path.join(out, 'tables.tex'), 'utf8'), /Mean/);
});
