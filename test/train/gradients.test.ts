/**
 * `train.weightDecay` (L2 on kernels only) and the per-block gradient norms the loop logs
 * (`grad_norm/<block>`, at step 0 and every logEvery steps), on the wasm backend.
 */
import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { digitnet, gradientBlocks, type Backbone } from '../../src/models/backbones.js';
import { resnet } from '../../src/models/resnet.js';
import { makeSplits, makeTargetSplits } from '../../src/data/splits.js';
import { runLoop } from '../../src/train/loop.js';
import { sourceAdapter } from '../../adapters/source.js';
import { loadDataset, smallExperiment, useBackend, validators } from '../helpers.js';

const data = loadDataset('mnist-10k');

async function train(backbone: Backbone, overrides: Record<string, unknown>, observer = {}) {
  const config = smallExperiment({ 'train.batchSize': 16, ...overrides });
  const source = makeSplits(data, config.model.input);
  const target = makeTargetSplits(data, config.model.input, 0, 0);
  const adapter = sourceAdapter.configure({}, 'test').create({ backbone, numClasses: 10, targetLabels: 0, seed: 0 });
  await runLoop(config, adapter, source, target, { validators, gradientBlocks: gradientBlocks(backbone), observer });
}

const weights = (b: Backbone) => Object.fromEntries([b.encoder, b.classifier].flatMap((m) => m.weights.map((w) => [w.originalName, Array.from(w.read().dataSync())])));

test.serial('train.weightDecay adds weightDecay * w to the gradient of every kernel and of nothing else (one plain SGD step)', async (t) => {
  await useBackend('wasm');
  const run = async (wd: number) => {
    const b = digitnet.build({ input: [28, 28, 1], numClasses: 10, seed: 3 });
    const before = weights(b);
    await train(b, { 'train.steps': 1, 'train.optimizer': 'sgd', 'train.momentum': 0, 'train.lr': 0.5, 'train.weightDecay': wd });
    const after = weights(b);
    b.encoder.dispose();
    b.classifier.dispose();
    return { before, after };
  };
  const plain = await run(0);
  const decayed = await run(0.1);
  let kernels = 0;
  for (const [name, w0] of Object.entries(plain.before)) {
    // w1(wd) - w1(0) = -lr * wd * w0 for kernels, 0 for biases.
    const diff = decayed.after[name]!.map((v, i) => v - plain.after[name]![i]!);
    const expected = name.endsWith('kernel') ? w0.map((v) => -0.5 * 0.1 * v) : w0.map(() => 0);
    const worst = Math.max(...diff.map((d, i) => Math.abs(d - expected[i]!)));
    const scale = Math.max(...w0.map(Math.abs), 1e-3);
    t.true(worst < 1e-4 * scale + 1e-6, `${name}: off by ${worst.toExponential(2)}`);
    if (name.endsWith('kernel')) kernels++;
  }
  t.is(kernels, 5);
});

test.serial('grad_norm per block: logged at step 0 and every logEvery steps; depth-56 sigmoid without skips vanishes in its first block, with identity skips it does not', async (t) => {
  await useBackend('wasm');
  const first = async (skip: boolean) => {
    const b = resnet.configure({ depth: 56, activation: 'sigmoid', norm: 'none', order: 'pre', skip }, 'test').build({ input: [28, 28, 1], numClasses: 10, seed: 0 });
    const logged: [number, Record<string, number>][] = [];
    await train(b, { 'train.steps': 12, 'train.logEvery': 5, 'model.backbone': 'resnet' }, { onGradNorms: (step: number, norms: Record<string, number>) => logged.push([step, norms]) });
    t.deepEqual(logged.map(([s]) => s), [0, 5, 10]);
    // Every block with trained weights, in order (pre-activation's final BN-act has none without norm).
    t.deepEqual(Object.keys(logged[0]![1]), gradientBlocks(b).filter((k) => k.variables.length > 0).map((k) => k.name));
    t.true(Object.keys(logged[0]![1]).length >= 29);
    for (const [, n] of logged) t.true(Object.values(n).every((v) => Number.isFinite(v) && v >= 0));
    b.encoder.dispose();
    b.classifier.dispose();
    return logged[0]![1];
  };
  const residual = await first(true);
  const plain = await first(false);
  t.true(residual['layer1.0']! > 1e-3, `with skips: ${residual['layer1.0']}`);
  t.true(residual['layer1.0']! > 10 * plain['layer1.0']!, `with skips ${residual['layer1.0']}, without ${plain['layer1.0']}`);
  // The head gets a gradient either way.
  t.true(plain['head']! > 0.1);
  t.is(tf.getBackend(), 'wasm');
});
