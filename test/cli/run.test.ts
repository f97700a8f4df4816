import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import test from 'ava';
import { encodeIdx } from '../../src/data/idx.js';
import { loadMnist10k } from '../../src/data/mnist10k.js';
import { toInputShape } from '../../src/data/preprocess.js';
import { dalab, tempDir, ROOT } from '../helpers.js';

const quickstart = path.join(ROOT, 'experiments/quickstart.yaml');

test('dalab run --json ends with the contract JSON line and writes an MLflow file store', (t) => {
  const store = tempDir();
  const result = dalab([
    'run', quickstart, '--json',
    '--set', 'source.dataset=mnist-10k', '--set', 'train.steps=20', '--set', 'train.evalEvery=10',
    '--set', `tracking.uri=file:${store}`,
  ]);
  t.is(result.status, 0, result.stderr);
  const lines = result.stdout.trim().split('\n');
  const summary = JSON.parse(lines[lines.length - 1]!);
  t.is(summary.status, 'FINISHED');
  t.is(summary.adapter, 'distill');
  t.is(summary.experiment, 'quickstart');
  t.is(summary.backend, 'wasm');
  for (const key of ['target_test_acc', 'target_test_acc_last', 'target_test_acc_oracle', 'source_test_acc']) {
    t.true(summary.metrics[key] >= 0 && summary.metrics[key] <= 1, key);
  }
  // MLflow's file-store layout.
  const runDir = path.dirname(summary.outDir);
  const experimentDir = path.dirname(runDir);
  t.regex(fs.readFileSync(path.join(experimentDir, 'meta.yaml'), 'utf8'), /name: 'quickstart'/);
  t.regex(fs.readFileSync(path.join(runDir, 'meta.yaml'), 'utf8'), /status: 3/);
  t.is(fs.readFileSync(path.join(runDir, 'params', 'train.steps'), 'utf8'), '20');
  t.is(fs.readFileSync(path.join(runDir, 'params', 'model.input'), 'utf8'), '[28,28,1]');
  t.is(fs.readFileSync(path.join(runDir, 'tags', 'dalab.backend'), 'utf8'), 'wasm');
  t.is(fs.readFileSync(path.join(runDir, 'tags', 'dalab.adapter'), 'utf8'), 'distill');
  const lossLines = fs.readFileSync(path.join(runDir, 'metrics', 'loss', 'total'), 'utf8').trim().split('\n');
  t.is(lossLines.length, 20);
  t.regex(lossLines[0]!, /^\d{13} [\d.e-]+ 1$/);
  const accLines = fs.readFileSync(path.join(runDir, 'metrics', 'target_test_acc'), 'utf8').trim().split('\n');
  t.deepEqual(accLines.map((l) => l.split(' ')[2]), ['10', '20']);
  t.true(fs.existsSync(path.join(runDir, 'metrics', 'target_test_acc.class_3')));
  t.true(fs.existsSync(path.join(summary.outDir, 'checkpoint', 'encoder', 'model.json')));
  t.true(fs.existsSync(path.join(summary.outDir, 'checkpoint', 'classifier', 'weights.bin')));
  t.true(fs.existsSync(path.join(summary.outDir, 'quickstart.yaml')));
});

test('idx:PATH reads a folder of 16x16 IDX digits and trains on them resized to 28x28', (t) => {
  // Real digits: the embedded MNIST images brought down to 16x16 and written as IDX (.gz for test).
  const mnist = loadMnist10k();
  const folder = tempDir('dalab-idx-');
  const write = (prefix: string, set: typeof mnist.train, gz: boolean) => {
    const small = toInputShape(set, [16, 16, 1]);
    const images = encodeIdx([small.count, 16, 16], small.images);
    const labels = encodeIdx([small.count], Uint8Array.from(small.labels));
    fs.writeFileSync(path.join(folder, `${prefix}-images-idx3-ubyte`), images);
    fs.writeFileSync(path.join(folder, `${prefix}-labels-idx1-ubyte`), labels);
    if (gz) {
      // A gzip-compressed variant must be read as well; keep only the .gz files for test.
      fs.renameSync(path.join(folder, `${prefix}-images-idx3-ubyte`), path.join(folder, 'tmp'));
      fs.writeFileSync(path.join(folder, `${prefix}-images-idx3-ubyte.gz`), zlib.gzipSync(fs.readFileSync(path.join(folder, 'tmp'))));
      fs.rmSync(path.join(folder, 'tmp'));
    }
  };
  write('train', mnist.train, false);
  write('t10k', mnist.test, true);
  const result = dalab([
    'run', quickstart, '--json',
    '--set', `source.dataset=idx:${folder}`, '--set', `target.dataset=idx:${folder}`,
    '--set', 'model.input=[28,28,1]', '--set', 'train.steps=120', '--set', 'train.evalEvery=0', '--set', 'adapter.name=source',
    '--set', `tracking.uri=file:${tempDir()}`,
  ]);
  t.is(result.status, 0, result.stderr);
  const summary = JSON.parse(result.stdout.trim().split('\n').pop()!);
  t.true(summary.metrics.target_test_acc > 0.6, `accuracy ${summary.metrics.target_test_acc}`);
});

test('divergence: a non-finite loss stops the run with exit 1, one line naming the step and the term, status FAILED and tags', (t) => {
  const store = tempDir('dalab-diverge-');
  const r = dalab(['run', path.join(ROOT, 'experiments/quickstart.yaml'), '--set', 'source.dataset=mnist-10k', '--set', 'adapter.name=source', '--set', 'train.lr=1e30', '--set', 'train.steps=40', '--set', `tracking.uri=file:${store}`, '--json']);
  t.is(r.status, 1, r.stderr);
  const errors = r.stderr.trim().split('\n').filter((l) => l.startsWith('dalab:'));
  t.is(errors.length, 1, r.stderr);
  t.regex(errors[0]!, /^dalab: run failed while training: diverged at step (\d+): loss term 'cls' is NaN \(lower train\.lr, or check the inputs\)$/);
  t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
  const summary = JSON.parse(r.stdout.trim().split('\n').pop()!) as { status: string; outDir: string };
  t.is(summary.status, 'FAILED');
  const runDir = path.dirname(summary.outDir);
  const step = Number(/step (\d+)/.exec(errors[0]!)![1]);
  t.true(step >= 1 && step <= 10, `found in the first read of the losses (step ${step})`);
  t.is(fs.readFileSync(path.join(runDir, 'tags', 'dalab.diverged_step'), 'utf8'), String(step));
  t.is(fs.readFileSync(path.join(runDir, 'tags', 'dalab.diverged_term'), 'utf8'), "loss term 'cls'");
  t.regex(fs.readFileSync(path.join(runDir, 'meta.yaml'), 'utf8'), /status: 4/);
  fs.rmSync(store, { recursive: true, force: true });
});

test('after training nothing is lost: an artifact that cannot be written leaves the run FINISHED, tagged, with a warning line', (t) => {
  const store = tempDir('dalab-artifacts-');
  const r = dalab(['run', path.join(ROOT, 'experiments/quickstart.yaml'), '--set', 'source.dataset=mnist-10k', '--set', 'adapter.name=source', '--set', 'train.steps=10', '--set', `tracking.uri=file:${store}`, '--json'], { DALAB_TEST_FAIL_ARTIFACT: 'figures' });
  t.is(r.status, 0, r.stderr);
  t.regex(r.stderr, /dalab: warning: figures could not be written \(DALAB_TEST_FAIL_ARTIFACT=figures\); the run's metrics are complete/);
  const summary = JSON.parse(r.stdout.trim().split('\n').pop()!) as { status: string; outDir: string; metrics: Record<string, number> };
  t.is(summary.status, 'FINISHED');
  t.true(summary.metrics['target_test_acc']! > 0);
  const runDir = path.dirname(summary.outDir);
  t.is(fs.readFileSync(path.join(runDir, 'tags', 'dalab.artifacts_missing'), 'utf8'), 'figures');
  t.regex(fs.readFileSync(path.join(runDir, 'meta.yaml'), 'utf8'), /status: 3/);
  t.true(fs.existsSync(path.join(summary.outDir, 'checkpoint', 'encoder', 'model.json')), 'the other artifacts are written');
  t.true(fs.existsSync(path.join(runDir, 'metrics', 'final', 'target_test_acc')));
  fs.rmSync(store, { recursive: true, force: true });
});
