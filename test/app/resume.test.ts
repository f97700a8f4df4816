/**
 * Resumable runs (issue: reliability). A run killed with SIGKILL at a random step (once before its
 * first checkpoint, once after several) and continued with `dalab run --resume` ends with the same
 * metrics, to the last digit, as an uninterrupted run with the same seed, on wasm, native TensorFlow
 * and the pure cpu backend; the tracker holds each metric step exactly once (offline store and a
 * real MLflow server). SIGTERM writes a checkpoint and ends the run KILLED; a sweep continues a
 * killed combination from its checkpoint; a planted NaN stops the run with the last good checkpoint kept.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { dalab, ROOT, tempDir } from '../helpers.js';
import { probeBackends } from '../../src/backend/backends.js';
import { MlflowServer, mlflowRequired, SKIP_MESSAGE } from '../mlflow-server.js';
import { MlflowClient } from '../../src/tracking/mlflow-client.js';
import { decodeFileStoreKey, listFiles } from '../../src/tracking/file-store.js';

const inCi = process.env['CI'] === 'true';
const native = (await probeBackends()).find((p) => p.name === 'tensorflow')!;

/** A tiny experiment: batch 8, 16x16 inputs, two batch streams, augmentation and inversion (their generators), selection by source-val (the selected weights). */
function writeTiny(dir: string, uri: string, adapter = '{ name: distill }', steps = 24): string {
  const file = path.join(dir, 'tiny.yaml');
  fs.writeFileSync(
    file,
    [
      'name: resume-tiny',
      'source: { dataset: synth-digits }',
      'target: { dataset: mnist-10k, labels: 0 }',
      'model: { backbone: digitnet, input: [16, 16, 1] }',
      `adapter: ${adapter}`,
      `train: { steps: ${steps}, batchSize: 8, seed: 3, evalEvery: 6, logEvery: 4, invert: 0.3, augment: true }`,
      'select: { by: source-val }',
      `tracking: { uri: '${uri}' }`,
      '',
    ].join('\n'),
  );
  return file;
}

interface Summary {
  runId: string;
  status: string;
  metrics: Record<string, number>;
  outDir: string;
}

const lastJson = (stdout: string): Summary => JSON.parse(stdout.trim().split('\n').pop()!) as Summary;

/** Every metric of a file-store run: key -> [step, value] in the order written. */
function fileStoreMetrics(runDir: string): Map<string, [number, number, number][]> {
  const out = new Map<string, [number, number, number][]>();
  for (const key of listFiles(path.join(runDir, 'metrics'))) {
    const lines = fs.readFileSync(path.join(runDir, 'metrics', key), 'utf8').trim().split('\n');
    out.set(
      decodeFileStoreKey(key),
      lines.map((l) => {
        const [ts, value, step] = l.split(' ');
        return [Number(step), value === 'nan' ? NaN : Number(value), Number(ts)];
      }),
    );
  }
  return out;
}

/** Same keys, each step exactly once, the same value at each step. */
function sameHistories(t: import('ava').ExecutionContext, resumed: Map<string, [number, number, number][]>, reference: Map<string, [number, number, number][]>): void {
  t.deepEqual([...resumed.keys()].sort(), [...reference.keys()].sort());
  for (const [key, points] of reference) {
    const mine = resumed.get(key) ?? [];
    const steps = mine.map((p) => p[0]);
    t.is(new Set(steps).size, steps.length, `${key}: a step logged twice (${steps.join(',')})`);
    const byStep = (ps: [number, number, number][]) => JSON.stringify([...ps].sort((a, b) => a[0] - b[0]).map(([s, v]) => [s, Object.is(v, NaN) ? 'NaN' : v]));
    t.is(byStep(mine), byStep(points), key);
  }
}

const randomStep = (from: number, to: number) => from + Math.floor(Math.random() * (to - from + 1));

for (const backend of ['wasm', 'tensorflow', 'cpu'] as const) {
  const run = backend !== 'tensorflow' || native.loaded || inCi ? test : test.skip;
  // wasm: a strategy with two phases (a source teacher pre-trained for 10 steps, then distillation).
  const adapter = backend === 'wasm' ? '{ name: distill, teacher: source, pretrainSteps: 10 }' : '{ name: distill }';
  const total = backend === 'wasm' ? 34 : 24;
  run(`${backend}: killed (SIGKILL) before the first checkpoint and after several, resumed twice, the same metrics to the last digit, each metric step once`, (t) => {
    const dir = tempDir('dalab-resume-');
    const store = path.join(dir, 'store');
    const file = writeTiny(dir, `file:${store}`, adapter, total);
    const env = { DALAB_BACKEND: backend };
    const full = dalab(['run', file, '--json'], env);
    t.is(full.status, 0, full.stderr);
    const reference = lastJson(full.stdout);

    const early = randomStep(1, 5);
    const late = randomStep(13, total - 1);
    const first = dalab(['run', file, '--json'], { ...env, DALAB_TEST_KILL_AT_STEP: String(early) });
    t.is(first.status, null, 'killed');
    const second = dalab(['run', file, '--resume', '--json'], { ...env, DALAB_TEST_KILL_AT_STEP: String(late) });
    t.is(second.status, null, `killed again at ${late}: ${second.stderr}`);
    t.regex(second.stderr, /resuming run [0-9a-f]{32} from step 0 \(no checkpoint yet/);
    const third = dalab(['run', file, '--resume', '--json'], env);
    t.is(third.status, 0, third.stderr);
    // Checkpoints at every evaluation (evalEvery 6 within each phase) and at each phase's end; the
    // kill comes right after step `late`, before a checkpoint of that step.
    const checkpoints = backend === 'wasm' ? [6, 10, 16, 22, 28, 34] : [6, 12, 18, 24];
    const checkpointStep = Math.max(...checkpoints.filter((c) => c < late));
    t.regex(third.stderr, new RegExp(`resuming run [0-9a-f]{32} from step ${checkpointStep}\\n`), `the checkpoint before step ${late}`);
    const resumed = lastJson(third.stdout);
    t.not(resumed.runId, reference.runId);
    t.deepEqual(resumed.metrics, reference.metrics, `killed at ${early} and ${late}`);
    const runDir = path.dirname(resumed.outDir);
    t.is(fs.readFileSync(path.join(runDir, 'tags', 'dalab.resumed_from_step'), 'utf8'), `0,${checkpointStep}`);
    t.regex(fs.readFileSync(path.join(runDir, 'meta.yaml'), 'utf8'), /status: 3/);
    t.false(fs.existsSync(path.join(resumed.outDir, 'resume')), 'a finished run keeps no resume checkpoints');
    sameHistories(t, fileStoreMetrics(runDir), fileStoreMetrics(path.dirname(reference.outDir)));

    // A finished run: --resume prints its result and exits 0.
    const again = dalab(['run', file, '--resume', '--json'], env);
    t.is(again.status, 0, again.stderr);
    t.deepEqual(lastJson(again.stdout).metrics, reference.metrics);
    t.regex(again.stderr, /has finished; its result/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
}

test('--resume: none of this configuration, a run of another configuration, or a checkpoint of another dalab version exits 2 with one line', (t) => {
  const dir = tempDir('dalab-resume-bad-');
  const store = path.join(dir, 'store');
  const file = writeTiny(dir, `file:${store}`, '{ name: source }', 12);
  const none = dalab(['run', file, '--resume']);
  t.is(none.status, 2, none.stderr);
  t.regex(none.stderr.trim(), /^dalab: --resume: no run of this configuration \(config hash [0-9a-f]+\) in experiment 'resume-tiny' at file:/);
  t.is(none.stderr.trim().split('\n').length, 1, none.stderr);

  const killed = dalab(['run', file, '--json'], { DALAB_TEST_KILL_AT_STEP: '8' });
  t.is(killed.status, null);
  const [runDir] = fs.readdirSync(path.join(store, '1')).filter((d) => d !== 'meta.yaml');
  const other = dalab(['run', file, '--set', 'train.seed=4', '--resume', runDir!]);
  t.is(other.status, 2, other.stderr);
  t.regex(other.stderr.trim(), new RegExp(`^dalab: --resume ${runDir}: that run has another configuration`));
  t.is(other.stderr.trim().split('\n').length, 1, other.stderr);

  // A checkpoint written by another version.
  const stateDir = path.join(store, '1', runDir!, 'artifacts', 'resume');
  const [newest] = fs.readdirSync(stateDir).sort().reverse();
  const bytes = fs.readFileSync(path.join(stateDir, newest!));
  const patched = Buffer.from(bytes.toString('latin1').replace(/\\"dalab\\":\\"[^\\]*\\"/, '\\"dalab\\":\\"0.0.1\\"'), 'latin1');
  t.not(patched.toString('latin1'), bytes.toString('latin1'), 'the version was patched');
  for (const f of fs.readdirSync(stateDir)) fs.writeFileSync(path.join(stateDir, f), patched);
  const version = dalab(['run', file, '--resume']);
  t.is(version.status, 2, version.stderr);
  t.regex(version.stderr.trim(), /^dalab: --resume [0-9a-f]{32}: the checkpoint .* was written by dalab 0\.0\.1; this is dalab /);
  t.is(version.stderr.trim().split('\n').length, 1, version.stderr);
  t.regex(fs.readFileSync(path.join(store, '1', runDir!, 'meta.yaml'), 'utf8'), /status: 1/, 'nothing written to the tracker');
  fs.rmSync(dir, { recursive: true, force: true });
});

// Serial: the other tests block this thread in spawnSync, and this one must read the child's output as it comes.
test.serial('SIGTERM writes a checkpoint, ends the run KILLED with exit 143; --resume finishes it with the uninterrupted metrics', async (t) => {
  const dir = tempDir('dalab-sigterm-');
  const store = path.join(dir, 'store');
  const file = writeTiny(dir, `file:${store}`, '{ name: distill }', 60);
  const full = dalab(['run', file, '--json']);
  t.is(full.status, 0, full.stderr);

  const child = spawn(process.execPath, [path.join(ROOT, 'bin/dalab.js'), 'run', file, '--json'], { cwd: ROOT, env: { ...process.env, DALAB_BACKEND: 'wasm' } });
  let stderr = '';
  let sent = false;
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    // After the first evaluation line (step 6), well before the end (step 60).
    if (!sent && /step 6\/60/.test(stderr)) {
      sent = true;
      child.kill('SIGTERM');
    }
  });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  t.is(code, 143, stderr);
  t.regex(stderr, /dalab: SIGTERM: writing a checkpoint at the end of this step, then stopping/);
  const stopped = /dalab: stopped by SIGTERM at step (\d+); checkpoint written \(([^)]+)\); continue with: dalab run .* --resume ([0-9a-f]{32})\n/.exec(stderr);
  t.truthy(stopped, stderr);
  const step = Number(stopped![1]);
  t.true(step >= 6 && step < 60, `stopped at ${step}`);
  t.true(fs.existsSync(stopped![2]!), 'the checkpoint exists');
  t.regex(path.basename(stopped![2]!), new RegExp(`^step-0*${step}\\.dalab-state$`));
  const summary = lastJson(stdout);
  t.is(summary.status, 'KILLED');
  t.regex(fs.readFileSync(path.join(path.dirname(summary.outDir), 'meta.yaml'), 'utf8'), /status: 5/);

  const resumed = dalab(['run', file, '--resume', stopped![3]!, '--json']);
  t.is(resumed.status, 0, resumed.stderr);
  t.regex(resumed.stderr, new RegExp(`resuming run ${stopped![3]} from step ${step}\\n`));
  t.deepEqual(lastJson(resumed.stdout).metrics, lastJson(full.stdout).metrics);
  sameHistories(t, fileStoreMetrics(path.dirname(summary.outDir)), fileStoreMetrics(path.dirname(lastJson(full.stdout).outDir)));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a sweep whose workers were killed halfway continues each combination from its checkpoint: the first newly logged step is the checkpoint step + 1', (t) => {
  const dir = tempDir('dalab-sweep-resume-');
  const store = path.join(dir, 'store');
  const file = writeTiny(dir, `file:${store}`, '{ name: distill }', 24);
  fs.appendFileSync(file, 'sweep:\n  train.seed: [3, 4]\n');
  const killed = dalab(['sweep', file, '--workers', '2', '--json'], { DALAB_TEST_KILL_AT_STEP: '14' });
  t.is(killed.status, 1, killed.stderr);
  const between = Date.now();
  const resumed = dalab(['sweep', file, '--workers', '2', '--json']);
  t.is(resumed.status, 0, resumed.stderr);
  const summary = JSON.parse(resumed.stdout.trim().split('\n').pop()!) as { runs: { runId: string; status: string }[] };
  t.is(summary.runs.length, 2);
  for (const run of summary.runs) {
    t.is(run.status, 'FINISHED');
    const runDir = path.join(store, '1', run.runId);
    t.is(fs.readFileSync(path.join(runDir, 'tags', 'dalab.resumed_from_step'), 'utf8'), '12');
    const total = fileStoreMetrics(runDir).get('loss/total')!;
    t.deepEqual(
      total.map((p) => p[0]).sort((a, b) => a - b),
      Array.from({ length: 24 }, (_, i) => i + 1),
      'each step once',
    );
    const fresh = total.filter((p) => p[2] >= between).map((p) => p[0]);
    t.is(Math.min(...fresh), 13, `newly logged: ${fresh.join(',')}`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

for (const backend of ['tensorflow', 'wasm'] as const) {
  const run = backend !== 'tensorflow' || native.loaded || inCi ? test : test.skip;
  run(`${backend}: a checkpoint written by a sweep's second combination in one process (variables named conv1/kernel_1 ...) resumes in a fresh process, the uninterrupted metrics`, (t) => {
    const dir = tempDir('dalab-sweep-second-');
    const store = path.join(dir, 'store');
    const file = writeTiny(dir, `file:${store}`, '{ name: cdan }', 24);
    fs.appendFileSync(file, 'sweep:\n  train.seed: [3, 4]\n');
    const env = { DALAB_BACKEND: backend };
    // One worker: the sweep trains its combinations in its own process, which the hook kills.
    const killed = dalab(['sweep', file, '--workers', '1', '--json'], { ...env, DALAB_TEST_KILL_AT_STEP: '2:14' });
    t.is(killed.status, null, killed.stderr);
    const resumed = dalab(['sweep', file, '--workers', '1', '--json'], env);
    t.is(resumed.status, 0, resumed.stderr);
    const summary = JSON.parse(resumed.stdout.trim().split('\n').pop()!) as { runs: Summary[]; skipped: number[] };
    t.deepEqual(summary.skipped, [0], 'the first combination had finished');
    t.is(summary.runs.length, 1);
    const second = summary.runs[0]!;
    t.is(second.status, 'FINISHED');
    t.regex(resumed.stderr, new RegExp(`resuming run ${second.runId} from step 12\\n`));
    // The optimiser's moments went back to the right variables: the uninterrupted run's metrics.
    const alone = dalab(['run', file, '--set', 'train.seed=4', '--set', `tracking.uri=file:${path.join(dir, 'alone')}`, '--json'], env);
    t.is(alone.status, 0, alone.stderr);
    t.deepEqual(second.metrics, lastJson(alone.stdout).metrics);
    fs.rmSync(dir, { recursive: true, force: true });
  });
}

test('divergence: a planted NaN input stops the run FAILED with exit 1 and the tags, the last good checkpoint kept', (t) => {
  const dir = tempDir('dalab-nan-');
  const store = path.join(dir, 'store');
  const file = writeTiny(dir, `file:${store}`, '{ name: source }', 24);
  const r = dalab(['run', file, '--json'], { DALAB_TEST_NAN_AT_STEP: '15' });
  t.is(r.status, 1, r.stderr);
  t.regex(r.stderr, /dalab: run failed while training: diverged at step 1[5-8]: /);
  t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
  const summary = lastJson(r.stdout);
  t.is(summary.status, 'FAILED');
  const runDir = path.dirname(summary.outDir);
  t.regex(fs.readFileSync(path.join(runDir, 'meta.yaml'), 'utf8'), /status: 4/);
  t.regex(fs.readFileSync(path.join(runDir, 'tags', 'dalab.diverged_step'), 'utf8'), /^1[5-8]$/);
  t.true(fs.existsSync(path.join(runDir, 'tags', 'dalab.diverged_term')));
  t.deepEqual(fs.readdirSync(path.join(summary.outDir, 'resume')).sort(), ['step-000000006.dalab-state', 'step-000000012.dalab-state'], 'the last good checkpoints (before the NaN) are kept');
  fs.rmSync(dir, { recursive: true, force: true });
});

const serverTest = mlflowRequired ? test.serial : test.serial.skip;
if (!mlflowRequired) console.log(SKIP_MESSAGE);

serverTest('against a real MLflow server: a killed run resumes as the same server run, each metric step once, the uninterrupted metrics', async (t) => {
  const server = new MlflowServer();
  await server.start();
  try {
    const dir = tempDir('dalab-resume-server-');
    const file = writeTiny(dir, server.uri, '{ name: distill }', 24);
    // Staging folders (.dalab/runs) under the test's own folder.
    const full = dalab(['run', file, '--json'], {}, dir);
    t.is(full.status, 0, full.stderr);
    const killAt = randomStep(13, 23);
    const killed = dalab(['run', file, '--json'], { DALAB_TEST_KILL_AT_STEP: String(killAt) }, dir);
    t.is(killed.status, null);
    const resumed = dalab(['run', file, '--resume', '--json'], {}, dir);
    t.is(resumed.status, 0, resumed.stderr);
    // Checkpoints at 6, 12, 18, 24; the kill comes right after its step, before that step's checkpoint.
    const checkpointStep = Math.max(...[6, 12, 18, 24].filter((c) => c < killAt));
    t.regex(resumed.stderr, new RegExp(`resuming run [0-9a-f]{32} from step ${checkpointStep}\\n`), `killed at ${killAt}`);
    const a = lastJson(full.stdout);
    const b = lastJson(resumed.stdout);
    t.deepEqual(b.metrics, a.metrics);
    const client = new MlflowClient(server.uri);
    const runB = await client.getRun(b.runId);
    t.is(runB.info.status, 'FINISHED');
    t.is((await client.searchRuns([runB.info.experiment_id])).length, 2, 'the same run continued, no new one');
    const keys = (await client.getRun(a.runId)).data.metrics!.map((m) => m.key);
    t.true(keys.length > 20);
    for (const key of keys) {
      const ha = await client.metricHistory(a.runId, key);
      const hb = await client.metricHistory(b.runId, key);
      const steps = hb.map((m) => m.step);
      t.is(new Set(steps).size, steps.length, `${key}: a step logged twice`);
      const norm = (h: typeof ha) => JSON.stringify([...h].sort((x, y) => x.step - y.step).map((m) => [m.step, m.value]));
      t.is(norm(hb), norm(ha), key);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  } finally {
    await server.stop();
  }
});
