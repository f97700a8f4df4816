import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import test from 'ava';
import { MlflowClient } from '../../src/tracking/mlflow-client.js';
import { MlflowServerTracker } from '../../src/tracking/server-tracker.js';
import { dalab, tempDir, ROOT } from '../helpers.js';
import { MlflowServer, mlflowRequired, SKIP_MESSAGE } from '../mlflow-server.js';
import { writeStore } from '../report/store.js';

const serverTest = mlflowRequired ? test.serial : test.serial.skip;
if (!mlflowRequired) console.log(SKIP_MESSAGE);

const server = new MlflowServer();
let uri = '';

test.before(async () => {
  if (!mlflowRequired) return;
  await server.start();
  uri = server.uri;
});

test.after.always(async () => {
  await server.stop();
});

serverTest('a run tracked on a real MLflow server reads back: params, metric histories with steps, tags, artifacts', async (t) => {
  const cwd = tempDir('dalab-cwd-');
  const secret = 'pa55-word-never-logged';
  const result = dalab(
    ['run', path.join(ROOT, 'experiments/quickstart.yaml'), '--json', '--set', 'adapter.name=source', '--set', 'source.dataset=mnist-10k', '--set', 'train.steps=20', '--set', 'train.evalEvery=10', '--set', `tracking.uri=${uri}`],
    { MLFLOW_TRACKING_USERNAME: 'alice', MLFLOW_TRACKING_PASSWORD: secret },
    cwd,
  );
  t.is(result.status, 0, result.stderr);
  const summary = JSON.parse(result.stdout.trim().split('\n').pop()!);
  const client = new MlflowClient(uri);
  const run = await client.getRun(summary.runId);
  t.is(run.info.status, 'FINISHED');
  const params = Object.fromEntries((run.data.params ?? []).map((p) => [p.key, p.value]));
  t.is(params['train.steps'], '20');
  t.is(params['model.input'], '[28,28,1]');
  t.is(params['adapter.name'], 'source');
  t.is(params['tracking.uri'], uri);
  const tags = Object.fromEntries((run.data.tags ?? []).map((p) => [p.key, p.value]));
  t.is(tags['dalab.adapter'], 'source');
  t.is(tags['dalab.backend'], 'wasm');
  t.is(tags['dalab.benchmark'], 'mnist-10k->mnist-10k');
  t.is(tags['mlflow.runName'], 'quickstart-source-s0');
  const loss = await client.metricHistory(summary.runId, 'loss/total');
  t.deepEqual(loss.map((m) => Number(m.step)).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1));
  const acc = await client.metricHistory(summary.runId, 'target_test_acc');
  t.deepEqual(acc.map((m) => Number(m.step)).sort((a, b) => a - b), [10, 20]);
  t.is(acc.find((m) => Number(m.step) === 20)!.value, summary.metrics.target_test_acc_last);
  t.is((await client.metricHistory(summary.runId, 'target_test_acc/class_3')).length, 2);
  const top = (await client.listArtifacts(summary.runId)).map((f) => f.path).sort();
  t.deepEqual(top, ['checkpoint', 'confusion_matrix.json', 'domain_distance.json', 'features', 'figures', 'gradient_norms.json', 'quickstart.yaml', 'resolved-config.yaml']);
  const figures = (await client.listArtifacts(summary.runId, 'figures')).map((f) => f.path).sort();
  t.deepEqual(figures, ['png', 'svg', 'vl.json'].flatMap((ext) => [`figures/confusion_matrix.${ext}`, `figures/learning_curve.${ext}`]).sort());
  const encoder = (await client.listArtifacts(summary.runId, 'checkpoint/encoder')).map((f) => f.path).sort();
  t.deepEqual(encoder, ['checkpoint/encoder/model.json', 'checkpoint/encoder/weights.bin']);
  // Credentials: never in params, tags, artifacts or output.
  const everything = JSON.stringify(run.data) + result.stdout + result.stderr;
  t.false(everything.includes(secret));
  const staged = path.join(cwd, '.dalab', 'runs', summary.runId, 'artifacts');
  for (const file of ['quickstart.yaml', 'resolved-config.yaml', 'confusion_matrix.json']) t.false(fs.readFileSync(path.join(staged, file), 'utf8').includes(secret));

  // The tracker answers "where is the checkpoint of run X" for a server too: downloaded through the artifact API.
  const elsewhere = tempDir('dalab-staging-');
  const folder = await new MlflowServerTracker(uri, elsewhere).checkpointOf(summary.runId);
  t.is(folder, path.join(elsewhere, summary.runId, 'artifacts', 'checkpoint'));
  for (const file of ['encoder/model.json', 'encoder/weights.bin', 'classifier/weights.bin']) t.deepEqual(fs.readFileSync(path.join(folder!, file)), fs.readFileSync(path.join(staged, 'checkpoint', file)), file);
  t.is(await new MlflowServerTracker(uri, elsewhere).checkpointOf('0'.repeat(32)), null);
  // ... so model.from takes a run id of the server: finetune starts from it in another folder.
  const tuned = dalab(
    ['run', path.join(ROOT, 'experiments/quickstart.yaml'), '--json', '--set', 'adapter.name=finetune', '--set', 'target.labels=5', '--set', `model.from=${summary.runId}`, '--set', 'source.dataset=mnist-10k', '--set', 'train.steps=10', '--set', `tracking.uri=${uri}`],
    {},
    tempDir('dalab-cwd-'),
  );
  t.is(tuned.status, 0, tuned.stderr);
  t.is(JSON.parse(tuned.stdout.trim().split('\n').pop()!).status, 'FINISHED');
});

serverTest('kill the server mid-run: the run completes offline, sync delivers every metric step, a second sync adds nothing', async (t) => {
  const cwd = tempDir('dalab-cwd-');
  const steps = 600;
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'bin/dalab.js'), 'run', path.join(ROOT, 'experiments/quickstart.yaml'), '--json', '--set', 'adapter.name=source', '--set', 'source.dataset=mnist-10k', '--set', `train.steps=${steps}`, '--set', 'train.evalEvery=100', '--set', 'train.batchSize=32', '--set', `tracking.uri=${uri}`, '--set', 'tracking.experiment=killed'],
    { cwd, env: { ...process.env, DALAB_BACKEND: 'wasm' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));

  // Kill the server as soon as the run exists there (the run then has most of its steps ahead).
  const client = new MlflowClient(uri, { retries: 0 });
  let serverRunId = '';
  for (let i = 0; i < 1200 && serverRunId === '' && child.exitCode == null; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const experiment = await client.getExperimentByName('killed').catch(() => null);
    if (experiment == null) continue;
    const runs = await client.searchRuns([experiment.experiment_id]).catch(() => []);
    if (runs.length > 0) serverRunId = runs[0]!.info.run_id;
  }
  t.not(serverRunId, '', 'the run reached the server before the kill');
  t.is(child.exitCode, null, 'the run was still going when the server was killed');
  await server.kill();

  t.is(await exited, 0, stderr);
  const summary = JSON.parse(stdout.trim().split('\n').pop()!);
  t.is(summary.status, 'FINISHED');
  t.not(summary.runId, serverRunId, 'the run continued under a local id');
  t.regex(stderr, /MLflow server unreachable/);

  await server.start();
  // A client that retries like dalab's own: the first client's pooled connection went with the old server.
  const fresh = new MlflowClient(uri);
  const sync = (extra: string[] = []) => dalab(['sync', path.join(cwd, 'mlruns'), '--to', uri, '--json', ...extra], {}, cwd);
  const first = sync();
  t.is(first.status, 0, first.stderr);
  const delivered = JSON.parse(first.stdout.trim().split('\n').pop()!);
  t.is(delivered.delivered.length, 1);
  const experiment = (await fresh.getExperimentByName('killed'))!;
  const synced = await fresh.searchRuns([experiment.experiment_id], `tags."dalab.local_run_id" = '${summary.runId}'`);
  t.is(synced.length, 1);
  const history = await fresh.metricHistory(synced[0]!.info.run_id, 'loss/total');
  t.deepEqual(history.map((m) => Number(m.step)).sort((a, b) => a - b), Array.from({ length: steps }, (_, i) => i + 1));
  t.is(synced[0]!.info.status, 'FINISHED');
  // The partial run the kill left behind is gone; only the complete one remains.
  const live = await fresh.searchRuns([experiment.experiment_id]);
  t.deepEqual(live.map((r) => r.info.run_id), [synced[0]!.info.run_id]);

  const second = sync();
  t.is(second.status, 0, second.stderr);
  const again = JSON.parse(second.stdout.trim().split('\n').pop()!);
  t.is(again.delivered.length, 0);
  t.is(again.skipped.length, 1);
  t.is((await fresh.searchRuns([experiment.experiment_id])).length, 1);
});

serverTest('dalab report reads an MLflow server like the offline store: same tables and figures', async (t) => {
  const store = tempDir('dalab-report-store-');
  const runs = [0, 1, 2, 3, 4].flatMap((seed) => [
    { adapter: 'source', seed, acc: 0.6 + 0.01 * seed, artifacts: true },
    { adapter: 'distill', seed, acc: 0.66 + 0.007 * seed, artifacts: true },
  ]);
  await writeStore(store, 'report-server', runs);
  t.is(dalab(['sync', store, '--to', uri]).status, 0);
  const local = path.join(tempDir('dalab-report-'), 'local');
  const remote = path.join(tempDir('dalab-report-'), 'remote');
  const a = dalab(['report', '--from', `file:${store}`, '--experiment', 'report-server', '--out', local, '--json']);
  const b = dalab(['report', '--from', uri, '--experiment', 'report-server', '--out', remote, '--json']);
  t.is(a.status, 0, a.stderr);
  t.is(b.status, 0, b.stderr);
  const figures = (r: { stdout: string }) => (JSON.parse(r.stdout.trim().split('\n').pop()!) as { figures: string[] }).figures;
  t.deepEqual(figures(b), figures(a));
  t.true(figures(b).includes('embedding') && figures(b).includes('confusion_matrix'), 'artifacts came from the server');
  for (const file of ['tables.md', 'tables.tex', 'summary.csv']) t.is(fs.readFileSync(path.join(remote, file), 'utf8'), fs.readFileSync(path.join(local, file), 'utf8'), file);
  for (const name of figures(a)) {
    const data = (dir: string) => (JSON.parse(fs.readFileSync(path.join(dir, `${name}.vl.json`), 'utf8')) as { data?: { values: unknown[] } }).data?.values;
    t.deepEqual(data(remote), data(local), `${name} data`);
  }
});
