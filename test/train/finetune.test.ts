import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { createContainer } from '../../src/container.js';
import { ExperimentRunner } from '../../src/app/run-experiment.js';
import { fileLoadHandler } from '../../src/models/checkpoint.js';
import { encodeIdx } from '../../src/data/idx.js';
import { loadMnist10k } from '../../src/data/mnist10k.js';
import { subset } from '../../src/data/types.js';
import { silentProgress, smallExperiment, tempDir, useBackend } from '../helpers.js';

async function weightsOf(dir: string): Promise<Map<string, Float32Array>> {
  const model = await tf.loadLayersModel(fileLoadHandler(dir));
  const out = new Map<string, Float32Array>();
  for (const w of model.weights) out.set(w.originalName, (await w.read().data()) as Float32Array);
  model.dispose();
  return out;
}

test.serial('finetune from a run id: a new head for another class count, frozen layers unchanged, the rest trained', async (t) => {
  await useBackend('wasm');
  const runner = createContainer().get(ExperimentRunner);
  // A 5-class source model (digits 0-4), written as IDX and trained briefly.
  const mnist = loadMnist10k();
  const folder = tempDir('dalab-5class-');
  for (const [prefix, set] of [['train', mnist.train], ['test', mnist.test]] as const) {
    const keep = Array.from(set.labels.keys()).filter((i) => set.labels[i]! < 5);
    const part = subset(set, keep);
    fs.writeFileSync(path.join(folder, `${prefix}-images-idx3-ubyte`), encodeIdx([part.count, 28, 28], part.images));
    fs.writeFileSync(path.join(folder, `${prefix}-labels-idx1-ubyte`), encodeIdx([part.count], Uint8Array.from(part.labels)));
  }
  const store = tempDir();
  const pre = await runner.run(
    await runner.prepare(smallExperiment({ 'source.dataset': `idx:${folder}`, 'target.dataset': `idx:${folder}`, 'train.steps': 20, 'tracking.uri': `file:${store}` }), 'test'),
    { backend: 'wasm', progress: silentProgress },
  );
  const before = await weightsOf(path.join(pre.outDir, 'checkpoint', 'encoder'));

  const tuned = await runner.run(
    await runner.prepare(
      smallExperiment({
        'target.labels': 5,
        'adapter': { name: 'finetune', freeze: 2 },
        'model.from': pre.runId,
        'train.steps': 20,
        'tracking.uri': `file:${store}`,
      }),
      'test',
    ),
    { backend: 'wasm', progress: silentProgress },
  );
  t.is(tuned.status, 'FINISHED');
  const after = await weightsOf(path.join(tuned.outDir, 'checkpoint', 'encoder'));
  const same = (name: string) => before.get(name)!.every((v, i) => v === after.get(name)![i]);
  t.true(same('conv1/kernel') && same('conv1/bias') && same('conv2/kernel'), 'the first two layers stay frozen');
  t.false(same('fc1/kernel'), 'fc1 is trained');
  const head = JSON.parse(fs.readFileSync(path.join(tuned.outDir, 'checkpoint', 'classifier', 'model.json'), 'utf8'));
  t.regex(JSON.stringify(head.modelTopology), /"units":10/);
});

test.serial('dsn saves a reconstruction grid and trains without NaN', async (t) => {
  await useBackend('wasm');
  const runner = createContainer().get(ExperimentRunner);
  const summary = await runner.run(await runner.prepare(smallExperiment({ adapter: { name: 'dsn' }, 'train.steps': 10 }), 'test'), { backend: 'wasm', progress: silentProgress });
  t.is(summary.status, 'FINISHED');
  const png = fs.readFileSync(path.join(summary.outDir, 'dsn_reconstructions.png'));
  t.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
  // Every loss term finite at every step (a missing metric fails here too).
  for (const term of ['cls', 'difference', 'reconstruction', 'similarity', 'total']) {
    const values = fs.readFileSync(path.join(path.dirname(summary.outDir), 'metrics', 'loss', term), 'utf8').trim().split('\n').map((l) => Number(l.split(' ')[1]));
    t.is(values.length, 10, term);
    t.true(values.every(Number.isFinite), `${term}: ${values.join(' ')}`);
  }
  const acc = summary.metrics['target_test_acc'];
  t.true(typeof acc === 'number' && acc >= 0 && acc <= 1, `target_test_acc ${acc}`);
});

test.serial('finetune head: keep starts from the checkpoint\'s head when the class count matches; head: new always a fresh one', async (t) => {
  await useBackend('wasm');
  const runner = createContainer().get(ExperimentRunner);
  const store = tempDir();
  const pre = await runner.run(await runner.prepare(smallExperiment({ 'train.steps': 10, 'tracking.uri': `file:${store}` }), 'test'), { backend: 'wasm', progress: silentProgress });
  const original = await weightsOf(path.join(pre.outDir, 'checkpoint', 'classifier'));
  const headAfter = async (head: 'keep' | 'new') => {
    // One step at a learning rate too small to move a weight visibly: what is left is where the head started.
    const run = await runner.run(
      await runner.prepare(smallExperiment({ 'target.labels': 5, adapter: { name: 'finetune', head }, 'model.from': pre.runId, 'train.steps': 1, 'train.lr': 1e-9, 'tracking.uri': `file:${store}` }), 'test'),
      { backend: 'wasm', progress: silentProgress },
    );
    t.is(run.status, 'FINISHED');
    return weightsOf(path.join(run.outDir, 'checkpoint', 'classifier'));
  };
  const maxDiff = (a: Map<string, Float32Array>) => Math.max(...[...original].map(([name, w]) => Math.max(...w.map((v, i) => Math.abs(v - a.get(name)![i]!)))));
  t.true(maxDiff(await headAfter('keep')) < 1e-5, 'keep: the checkpoint\'s 10-way head');
  t.true(maxDiff(await headAfter('new')) > 1e-2, 'new: a freshly initialised head');
});
