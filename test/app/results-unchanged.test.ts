/**
 * Results unchanged: 200-step runs (seed 0, wasm) of the experiment files that use embedded data
 * only give exactly the metrics and final loss terms committed in test/fixtures/golden-runs.json.
 * A refactor that changes what a run computes fails here. Regenerate (only when a result is meant
 * to change, and say why in the commit): DALAB_UPDATE_GOLDEN=1 npm test -- --match='results unchanged*'
 * (a narrower --match updates only the cases it runs)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'ava';
import { dalab, tempDir, ROOT } from '../helpers.js';

interface GoldenCase {
  name: string;
  file: string;
  sets: string[];
}

const CASES: GoldenCase[] = [
  { name: 'quickstart (distill)', file: 'experiments/quickstart.yaml', sets: [] },
  { name: 'sim-to-real (source)', file: 'experiments/sim-to-real.yaml', sets: [] },
  { name: 'compare-strategies (dann, weight 0.3)', file: 'experiments/compare-strategies.yaml', sets: ['adapter={name: dann, weight: 0.3}'] },
  { name: 'compare-strategies (dsn)', file: 'experiments/compare-strategies.yaml', sets: ['adapter={name: dsn}'] },
];

const FIXTURE = path.join(ROOT, 'test/fixtures/golden-runs.json');
const update = process.env['DALAB_UPDATE_GOLDEN'] === '1';
type Golden = Record<string, { metrics: Record<string, number>; losses: Record<string, number> }>;
const golden: Golden = fs.existsSync(FIXTURE) ? (JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as Golden) : {};
const produced: Golden = {};

/** The last logged value of every loss/* metric of a run in the offline store. */
function lastLosses(runDir: string): Record<string, number> {
  const dir = path.join(runDir, 'metrics', 'loss');
  const out: Record<string, number> = {};
  for (const name of fs.readdirSync(dir).sort()) {
    const lines = fs.readFileSync(path.join(dir, name), 'utf8').trim().split('\n');
    out[name] = Number(lines[lines.length - 1]!.split(' ')[1]);
  }
  return out;
}

for (const c of CASES) {
  test.serial(`results unchanged: ${c.name}, 200 steps, seed 0, wasm`, (t) => {
    const store = tempDir();
    const args = ['run', path.join(ROOT, c.file), '--json', '--set', 'train.steps=200', '--set', 'train.seed=0', '--set', `tracking.uri=file:${store}`];
    for (const s of c.sets) args.push('--set', s);
    // 200 wasm steps of dsn take minutes on a busy 2-core machine: a generous limit, and the reason in the message.
    const result = dalab(args, { DALAB_BACKEND: 'wasm' }, ROOT, 900_000);
    t.is(result.status, 0, result.status == null ? `killed after 15 minutes (${result.stderr})` : result.stderr);
    const summary = JSON.parse(result.stdout.trim().split('\n').pop()!) as { metrics: Record<string, number>; outDir: string; backend: string };
    t.is(summary.backend, 'wasm');
    const actual = { metrics: summary.metrics, losses: lastLosses(path.dirname(summary.outDir)) };
    produced[c.name] = actual;
    if (update) {
      t.pass();
      return;
    }
    t.truthy(golden[c.name], `no committed values for '${c.name}' in ${FIXTURE}`);
    t.deepEqual(actual, golden[c.name]);
  });
}

test.after.always(() => {
  // A --match'ed subset updates its own cases and keeps the others' committed values.
  if (update && Object.keys(produced).length > 0) {
    const merged = Object.fromEntries(CASES.filter((c) => produced[c.name] ?? golden[c.name]).map((c) => [c.name, produced[c.name] ?? golden[c.name]]));
    fs.writeFileSync(FIXTURE, JSON.stringify(merged, null, 1) + '\n');
  }
});
