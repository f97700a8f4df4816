/**
 * `dalab sweep` as a user runs it: worker processes, SIGKILL halfway and resume, one combination
 * by --index/--parent, and the Slurm array script (run task by task as Slurm would run it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import test from 'ava';
import { dalab, ROOT, tempDir, writeTinySweep } from '../helpers.js';
import { FileStoreTracker } from '../../src/tracking/file-store.js';

function tinySweep(dir: string): string {
  return writeTinySweep(dir, ['  adapter: [{ name: source }, { name: coral }]', '  train.seed: [0, 1]', '  target.labels: [0, 5]']);
}

async function runsOf(dir: string) {
  const tracker = new FileStoreTracker(`file:${path.join(dir, 'store')}`);
  const all = await tracker.findRuns('tiny', {});
  return { parents: all.filter((r) => r.tags['dalab.sweep'] === 'parent'), children: all.filter((r) => r.tags['mlflow.parentRunId'] != null) };
}

test.serial('a sweep killed with SIGKILL halfway and rerun ends with one parent, 8 finished children, no duplicates, nothing RUNNING', async (t) => {
  const dir = tempDir('dalab-sweep-');
  const file = tinySweep(dir);
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/dalab.js'), 'sweep', file, '--workers', '2'], { cwd: dir, env: { ...process.env, DALAB_BACKEND: 'wasm' }, stdio: 'ignore' });
  // Kill when at least 3 combinations are finished and fewer than 8 (waiting up to 10 min: a loaded machine is slow).
  let finished = 0;
  for (let i = 0; i < 3000 && finished < 3; i++) {
    await new Promise((r) => setTimeout(r, 200));
    finished = (await runsOf(dir)).children.filter((c) => c.status === 'FINISHED').length;
  }
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  // Workers die with the sweep (IPC disconnect): give them a moment, then nothing may change any more.
  await new Promise((r) => setTimeout(r, 3000));
  const killed = await runsOf(dir);
  const before = killed.children.filter((c) => c.status === 'FINISHED').length;
  t.true(before >= 3 && before < 8, `${before} finished when killed`);
  await new Promise((r) => setTimeout(r, 3000));
  t.is((await runsOf(dir)).children.filter((c) => c.status === 'FINISHED').length, before, 'no orphan worker finished a run after the kill');

  const rerun = dalab(['sweep', file, '--workers', '2'], {}, dir);
  t.is(rerun.status, 0, rerun.stderr);
  t.regex(rerun.stdout, new RegExp(`${8 - before} finished, 0 failed, ${before} already finished earlier \\(skipped\\) of 8`));
  const after = await runsOf(dir);
  t.is(after.parents.length, 1);
  t.is(after.parents[0]!.status, 'FINISHED');
  const done = after.children.filter((c) => c.status === 'FINISHED');
  t.is(done.length, 8);
  t.is(new Set(done.map((c) => c.tags['dalab.config_hash'])).size, 8, 'no combination finished twice');
  t.true(done.every((c) => c.tags['mlflow.parentRunId'] === after.parents[0]!.runId));
  t.deepEqual(after.children.filter((c) => c.status === 'RUNNING'), []);
  t.deepEqual([...new Set(after.children.map((c) => c.status))].sort(), after.children.length > 8 ? ['FINISHED', 'KILLED'] : ['FINISHED']);

  // A third run has nothing to do.
  const again = dalab(['sweep', file, '--workers', '2'], {}, dir);
  t.is(again.status, 0);
  t.regex(again.stdout, /0 finished, 0 failed, 8 already finished earlier \(skipped\) of 8/);
  t.is((await runsOf(dir)).children.length, after.children.length);
});

test.serial('--emit slurm writes an array job whose tasks run --index i under one parent (run here task by task)', async (t) => {
  const dir = tempDir('dalab-slurm-');
  const file = tinySweep(dir);
  const emitted = dalab(['sweep', file, '--emit', 'slurm', '--partition', 'debug', '--gpus-per-task', '1', '--time', '00:10:00', '--json'], {}, dir);
  t.is(emitted.status, 0, emitted.stderr);
  const { script, parentRunId, tasks } = JSON.parse(emitted.stdout.trim().split('\n').pop()!) as { script: string; parentRunId: string; tasks: number };
  t.is(tasks, 8);
  const text = fs.readFileSync(script, 'utf8');
  t.regex(text, /^#!\/bin\/bash\n/);
  t.regex(text, /#SBATCH --array=0-7\n/);
  t.regex(text, /#SBATCH --partition=debug\n/);
  t.regex(text, /#SBATCH --gpus-per-task=1\n/);
  t.regex(text, /#SBATCH --time=00:10:00\n/);
  t.true(text.includes(`--index "$SLURM_ARRAY_TASK_ID" --parent '${parentRunId}'`));
  t.is(spawnSync('bash', ['-n', script]).status, 0, 'the script parses');
  // What Slurm does for tasks 0 and 1 (and task 1 again: a resubmitted task skips).
  for (const task of ['0', '1', '1']) {
    const r = spawnSync('bash', [script], { cwd: '/', env: { ...process.env, SLURM_ARRAY_TASK_ID: task, DALAB_BACKEND: 'wasm' }, encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL' });
    t.is(r.status, 0, r.stderr);
  }
  const runs = await runsOf(dir);
  t.is(runs.parents.length, 1);
  t.is(runs.parents[0]!.runId, parentRunId);
  t.is(runs.children.filter((c) => c.status === 'FINISHED').length, 2);
  t.is(runs.parents[0]!.status, 'RUNNING', 'the parent stays open until every combination is finished');
  // --index out of range and --index without --parent are usage errors.
  t.is(dalab(['sweep', file, '--index', '8', '--parent', parentRunId], {}, dir).status, 2);
  const lone = dalab(['sweep', file, '--index', '0'], {}, dir);
  t.is(lone.status, 2);
  t.is(lone.stderr.trim().split('\n').length, 1);
});

test.serial('label regimes: for a seed and N every strategy sees exactly the same labelled target images', async (t) => {
  const dir = tempDir('dalab-labels-');
  const hash = (adapter: string, seed: number, labels: number) => {
    const r = dalab(
      ['run', path.join(ROOT, 'experiments/quickstart.yaml'), '--json', '--set', `adapter.name=${adapter}`, '--set', `train.seed=${seed}`, '--set', `target.labels=${labels}`, '--set', 'train.steps=2', '--set', 'source.dataset=mnist-10k', '--set', `tracking.uri=file:${path.join(dir, 'store')}`],
      {},
      dir,
    );
    t.is(r.status, 0, r.stderr);
    const runId = (JSON.parse(r.stdout.trim().split('\n').pop()!) as { runId: string }).runId;
    const tagFile = fs
      .readdirSync(path.join(dir, 'store'))
      .map((e) => path.join(dir, 'store', e, runId, 'tags', 'dalab.data.target_hash'))
      .find((f) => fs.existsSync(f))!;
    return /labelled:(\S+)/.exec(fs.readFileSync(tagFile, 'utf8'))![1]!;
  };
  const joint = hash('joint', 3, 5);
  t.is(hash('coral', 3, 5), joint);
  t.is(hash('finetune', 3, 5), joint);
  t.not(hash('joint', 4, 5), joint, 'another seed draws other images');
  t.not(hash('joint', 3, 6), joint, 'another N draws other images');
});

for (const workers of ['1', '2']) {
  test.serial(`a failing combination does not stop the others and is listed (--workers ${workers})`, async (t) => {
    const dir = tempDir('dalab-sweep-fail-');
    const file = writeTinySweep(dir, ['  target.labels: [5, 5000]']);
    const r = dalab(['sweep', file, '--workers', workers], {}, dir);
    t.is(r.status, 1, r.stderr);
    t.regex(r.stdout, /1 finished, 1 failed of 2/);
    t.regex(r.stdout, /failed: combination 1 \{"target\.labels":5000\}: .*5000/);
    const runs = await runsOf(dir);
    t.is(runs.children.filter((c) => c.status === 'FINISHED').length, 1);
    t.is(runs.parents[0]!.status, 'FINISHED', 'the parent of a partly failed sweep is FINISHED');
  });
}
