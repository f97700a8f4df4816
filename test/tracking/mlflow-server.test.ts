import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import test from 'ava';
import { MlflowClient } from '../../src/tracking/mlflow-client.js';
import { dalab, tempDir, ROOT } from '../helpers.js';

// A real MLflow server from the project's virtual environment (.ci/run installs it).
const mlflowBin = path.join(ROOT, '.venv', 'bin', 'mlflow');
const hasMlflow = fs.existsSync(mlflowBin) && spawnSync(path.join(ROOT, '.venv', 'bin', 'python'), ['-c', 'import mlflow'], { encoding: 'utf8' }).status === 0;
const inCi = process.env['CI'] === 'true';
const serverTest = hasMlflow || inCi ? test.serial : test.serial.skip;
if (!hasMlflow && !inCi) console.log('# MLflow server tests skipped: python3 -m venv .venv && .venv/bin/pip install -r requirements-mlflow.txt');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

let server: ChildProcess | null = null;
let uri = '';

test.before(async () => {
  if (!(hasMlflow || inCi)) return;
  const dir = tempDir('dalab-mlflow-');
  const port = await freePort();
  uri = `http://127.0.0.1:${port}`;
  server = spawn(mlflowBin, ['server', '--host', '127.0.0.1', '--port', String(port), '--backend-store-uri', `sqlite:///${dir}/mlflow.db`, '--artifacts-destination', `${dir}/artifacts`, '--workers', '1'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  server.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      if ((await fetch(`${uri}/health`)).ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline || server.exitCode != null) throw new Error(`mlflow server did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 500));
  }
});

test.after.always(() => {
  server?.kill('SIGTERM');
});

serverTest('a run tracked on a real MLflow server reads back: params, metric histories with steps, tags, artifacts', async (t) => {
  const cwd = tempDir('dalab-cwd-');
  const secret = 'pa55-word-never-logged';
  const result = dalab(
    ['run', path.join(ROOT, 'experiments/quickstart.yaml'), '--json', '--set', 'source.dataset=mnist-10k', '--set', 'train.steps=20', '--set', 'train.evalEvery=10', '--set', `tracking.uri=${uri}`],
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
  t.deepEqual(top, ['checkpoint', 'confusion_matrix.json', 'quickstart.yaml', 'resolved-config.yaml']);
  const encoder = (await client.listArtifacts(summary.runId, 'checkpoint/encoder')).map((f) => f.path).sort();
  t.deepEqual(encoder, ['checkpoint/encoder/model.json', 'checkpoint/encoder/weights.bin']);
  // Credentials: never in params, tags, artifacts or output.
  const everything = JSON.stringify(run.data) + result.stdout + result.stderr;
  t.false(everything.includes(secret));
  const staged = path.join(cwd, '.dalab', 'runs', summary.runId, 'artifacts');
  for (const file of ['quickstart.yaml', 'resolved-config.yaml', 'confusion_matrix.json']) t.false(fs.readFileSync(path.join(staged, file), 'utf8').includes(secret));
});
