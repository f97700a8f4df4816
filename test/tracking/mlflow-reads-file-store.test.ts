import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import test from 'ava';
import { dalab, tempDir, ROOT } from '../helpers.js';

// MLflow from the project's virtual environment (.ci/run installs it; locally: see README).
const python = path.join(ROOT, '.venv', 'bin', 'python');
const hasMlflow = fs.existsSync(python) && spawnSync(python, ['-c', 'import mlflow'], { encoding: 'utf8' }).status === 0;
const inCi = process.env['CI'] === 'true';
const mlflowTest = hasMlflow || inCi ? test : test.skip;
if (!hasMlflow && !inCi) console.log('# MLflow tests skipped: create .venv with `python3 -m venv .venv && .venv/bin/pip install -r requirements-mlflow.txt`');

mlflowTest('MLflow itself reads the offline store dalab run writes: same params and metric histories', (t) => {
  const store = tempDir();
  const run = dalab([
    'run', path.join(ROOT, 'experiments/quickstart.yaml'), '--json',
    '--set', 'source.dataset=mnist-10k', '--set', 'train.steps=20', '--set', 'train.evalEvery=10',
    '--set', `tracking.uri=file:${store}`,
  ]);
  t.is(run.status, 0, run.stderr);
  const summary = JSON.parse(run.stdout.trim().split('\n').pop()!);
  const script = `
import json, mlflow
from mlflow.tracking import MlflowClient
mlflow.set_tracking_uri(${JSON.stringify(`file:${store}`)})
client = MlflowClient()
run = client.get_run(${JSON.stringify(summary.runId)})
history = {k: [[m.step, m.value] for m in client.get_metric_history(run.info.run_id, k)] for k in run.data.metrics}
print(json.dumps({"status": run.info.status, "params": run.data.params, "tags": run.data.tags, "history": history,
  "experiment": client.get_experiment(run.info.experiment_id).name}))
`;
  const result = spawnSync(python, ['-c', script], { encoding: 'utf8', env: { ...process.env, MLFLOW_ALLOW_FILE_STORE: 'true' } });
  t.is(result.status, 0, result.stderr);
  const read = JSON.parse(result.stdout.trim().split('\n').pop()!);
  t.is(read.status, 'FINISHED');
  t.is(read.experiment, 'quickstart');
  t.is(read.params['train.steps'], '20');
  t.is(read.params['adapter.name'], 'distill');
  t.is(read.tags['dalab.backend'], 'wasm');
  t.is(read.history['loss/total'].length, 20);
  t.deepEqual(read.history['loss/total'].map((p: number[]) => p[0]), Array.from({ length: 20 }, (_, i) => i + 1));
  t.deepEqual(read.history['target_test_acc'].map((p: number[]) => p[0]), [10, 20]);
  t.is(read.history['target_test_acc'][1][1], summary.metrics.target_test_acc_last);
});
