/**
 * Several writers into one offline store at once: 4 runs and a 4-worker sweep, all started together
 * into the same experiment. Everything completes, the experiment exists once, and MLflow itself reads
 * every run back intact (status, params, tags, each metric step once).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import test from 'ava';
import { tempDir, ROOT } from '../helpers.js';

const python = path.join(ROOT, '.venv', 'bin', 'python');
const hasMlflow = fs.existsSync(python) && spawnSync(python, ['-c', 'import mlflow'], { encoding: 'utf8' }).status === 0;
const inCi = process.env['CI'] === 'true';
const mlflowTest = hasMlflow || inCi ? test : test.skip;
if (!hasMlflow && !inCi) console.log('# MLflow tests skipped: create .venv with `python3 -m venv .venv && .venv/bin/pip install -r requirements-mlflow.txt`');

function start(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/dalab.js'), ...args], { cwd: ROOT, env: { ...process.env, DALAB_BACKEND: 'wasm' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

mlflowTest('4 concurrent runs and a 4-worker sweep into one offline store: all complete, MLflow reads every run back intact', async (t) => {
  const dir = tempDir('dalab-concurrent-');
  const store = path.join(dir, 'store');
  const file = path.join(dir, 'concurrent.yaml');
  const steps = 16;
  fs.writeFileSync(
    file,
    [
      'name: concurrent',
      'source: { dataset: mnist-10k }',
      'target: { dataset: mnist-10k, labels: 0 }',
      'model: { backbone: digitnet, input: [16, 16, 1] }',
      'adapter: { name: source }',
      `train: { steps: ${steps}, batchSize: 8, seed: 0, evalEvery: 4, logEvery: 2 }`,
      'select: { by: last }',
      `tracking: { uri: 'file:${store}', experiment: shared }`,
      'sweep:',
      '  train.seed: [10, 11, 12, 13]',
      '',
    ].join('\n'),
  );
  const results = await Promise.all([
    ...[0, 1, 2, 3].map((seed) => start(['run', file, '--set', `train.seed=${seed}`, '--json'])),
    start(['sweep', file, '--workers', '4', '--json']),
  ]);
  for (const r of results) t.is(r.code, 0, r.stderr);

  const experiments = fs.readdirSync(store).filter((e) => fs.existsSync(path.join(store, e, 'meta.yaml')) && /name: 'shared'/.test(fs.readFileSync(path.join(store, e, 'meta.yaml'), 'utf8')));
  t.is(experiments.length, 1, `one experiment 'shared': ${experiments.join(', ')}`);

  const script = `
import json, mlflow
from mlflow.tracking import MlflowClient
mlflow.set_tracking_uri(${JSON.stringify(`file:${store}`)})
client = MlflowClient()
exp = client.get_experiment_by_name("shared")
out = []
for run in client.search_runs([exp.experiment_id], max_results=1000):
    history = {k: sorted(m.step for m in client.get_metric_history(run.info.run_id, k)) for k in run.data.metrics}
    out.append({"id": run.info.run_id, "status": run.info.status, "params": run.data.params, "tags": run.data.tags, "history": history})
print(json.dumps(out))
`;
  const read = spawnSync(python, ['-c', script], { encoding: 'utf8', env: { ...process.env, MLFLOW_ALLOW_FILE_STORE: 'true' } });
  t.is(read.status, 0, read.stderr);
  const runs = JSON.parse(read.stdout.trim().split('\n').pop()!) as { id: string; status: string; params: Record<string, string>; tags: Record<string, string>; history: Record<string, number[]> }[];
  const children = runs.filter((r) => r.tags['dalab.sweep'] !== 'parent');
  t.is(children.length, 8, '4 runs + 4 sweep combinations');
  t.is(runs.length, 9, '+ the sweep parent');
  t.deepEqual(children.map((r) => Number(r.params['train.seed'])).sort((a, b) => a - b), [0, 1, 2, 3, 10, 11, 12, 13]);
  for (const r of runs) {
    t.is(r.status, 'FINISHED', r.id);
    if (r.tags['dalab.sweep'] === 'parent') continue;
    t.is(r.params['train.steps'], String(steps));
    t.is(r.tags['dalab.adapter'], 'source');
    t.deepEqual(r.history['loss/total'], Array.from({ length: steps }, (_, i) => i + 1), `${r.id}: each step once`);
    t.deepEqual(r.history['target_test_acc'], [4, 8, 12, 16]);
    t.deepEqual(r.history['final/target_test_acc'], [steps]);
  }
  // No temporary file was left where MLflow looks.
  const leftovers = spawnSync('find', [store, '-name', '*.tmp-*', '-o', '-name', '*.partial-*', '-o', '-name', '.dalab-lock'], { encoding: 'utf8' }).stdout.trim();
  t.is(leftovers, '');
  fs.rmSync(dir, { recursive: true, force: true });
});
