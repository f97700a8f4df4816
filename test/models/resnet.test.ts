/**
 * ResNet (src/models/resnet.ts): torchvision's parameter counts at 224x224x3 (fixture written by
 * test/fixtures/make_torchvision_counts.py with torchvision itself), output shapes at digit sizes
 * for every option value, strict options, training on wasm, frozen blocks that stay frozen.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { resnet } from '../../src/models/resnet.js';
import type { Backbone } from '../../src/models/backbones.js';
import { makeSplits, makeTargetSplits } from '../../src/data/splits.js';
import { runLoop } from '../../src/train/loop.js';
import { sourceAdapter } from '../../adapters/source.js';
import { finetuneAdapter } from '../../adapters/finetune.js';
import { UserError } from '../../src/messages.js';
import { ROOT, loadDataset, smallExperiment, useBackend, validators } from '../helpers.js';

const counts = JSON.parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/torchvision-counts.json'), 'utf8')) as { trainable: Record<string, number> };
const size = (shape: readonly (number | null)[]) => shape.reduce<number>((a, c) => a * (c ?? 1), 1);
const trainable = (b: Backbone) => [b.encoder, b.classifier].reduce((n, m) => n + m.trainableWeights.reduce((k, w) => k + size(w.shape), 0), 0);
const dispose = (b: Backbone) => [b.encoder, b.classifier].forEach((m) => m.dispose());

for (const [name, depth] of [['resnet18', 18], ['resnet34', 34], ['resnet50', 50]] as const) {
  test.serial(`${name} at 224x224x3 with 1,000 classes has torchvision's ${counts.trainable[name]!.toLocaleString('en')} trainable parameters`, async (t) => {
    await useBackend('cpu');
    const b = resnet.configure({ depth, width: 1 }, 'test').build({ input: [224, 224, 3], numClasses: 1000, seed: 0 });
    t.is(trainable(b), counts.trainable[name]!);
    t.deepEqual(b.encoder.outputs[0]!.shape, [null, depth >= 50 ? 2048 : 512]);
    dispose(b);
  });
}

const VARIANTS: Record<string, unknown>[] = [
  {},
  { depth: 8 },
  { depth: 11, block: 'bottleneck' },
  { width: 0.5 },
  { skip: false },
  { pyramidal: 48 },
  { pyramidal: 24, block: 'bottleneck', depth: 11 },
  { norm: 'none' },
  ...(['relu6', 'sigmoid', 'tanh'] as const).map((activation) => ({ activation })),
  ...(['bn-after-add', 'relu-before-add', 'relu-only-pre', 'pre'] as const).map((order) => ({ order })),
];

test.serial('output shapes at 28x28x1 and 32x32x3 for every option value; blocks, feature and diagnostic layers exist', async (t) => {
  await useBackend('cpu');
  for (const options of VARIANTS) {
    for (const input of [[28, 28, 1], [32, 32, 3]] as [number, number, number][]) {
      const b = resnet.configure(options, 'test').build({ input, numClasses: 10, seed: 1 });
      const x = tf.zeros([2, ...input]);
      const logits = b.classifier.predict(b.encoder.predict(x) as tf.Tensor) as tf.Tensor;
      t.deepEqual(logits.shape, [2, 10], JSON.stringify(options));
      for (const layer of [b.featureLayer, ...b.diagnosticLayers, ...b.blocks.flatMap((k) => k.layers)]) t.notThrows(() => b.encoder.getLayer(layer), `${JSON.stringify(options)}: ${layer}`);
      t.is(b.blocks[0]!.name, 'stem');
      // Every weighted encoder layer belongs to exactly one block.
      const inBlocks = b.blocks.flatMap((k) => k.layers);
      t.is(new Set(inBlocks).size, inBlocks.length);
      for (const l of b.encoder.layers) if (l.weights.length > 0) t.true(inBlocks.includes(l.name), l.name);
      const plain = options['skip'] === false;
      t.is(b.encoder.layers.some((l) => l.getClassName() === 'Add'), !plain);
      t.is(b.encoder.layers.some((l) => l.getClassName() === 'BatchNormalization'), options['norm'] !== 'none');
      tf.dispose([x, logits]);
      dispose(b);
    }
  }
  // PyramidNet: the planes grow linearly block by block (base 16 x width 0.5 = 8, + 48 x 0.5 in
  // total over 9 blocks), with parameter-free skips.
  const pyramid = resnet.configure({ pyramidal: 48 }, 'test').build({ input: [28, 28, 1], numClasses: 10, seed: 0 });
  const planes = pyramid.blocks.slice(1).map((k) => (pyramid.encoder.getLayer(`${k.name}.conv1`).getWeights()[0]!.shape[3] as number));
  t.deepEqual(planes, [1, 2, 3, 4, 5, 6, 7, 8, 9].map((k) => Math.round((16 + (48 * k) / 9) * 0.5)));
  t.false(pyramid.encoder.layers.some((l) => l.name.endsWith('downsample.0')));
  dispose(pyramid);
  const depth20 = resnet.build({ input: [28, 28, 1], numClasses: 10, seed: 0 });
  t.is(depth20.blocks.length, 1 + 3 * 3, 'stem + 3 stages of 3 basic blocks');
  dispose(depth20);
});

test('options are strict: a depth that is not 6n+2 / 9n+2, an unknown key or value is a UserError naming it', (t) => {
  t.throws(() => resnet.configure({ depth: 21 }, 'f.yaml'), { instanceOf: UserError, message: /f\.yaml: model\.backbone\.depth: basic blocks need depth 6n\+2 .* got 21 for backbone 'resnet'/ });
  t.throws(() => resnet.configure({ depth: 14, block: 'bottleneck' }, 'f.yaml'), { instanceOf: UserError, message: /bottleneck blocks need depth 9n\+2/ });
  t.throws(() => resnet.configure({ dpeth: 20 }, 'f.yaml'), { instanceOf: UserError, message: /model\.backbone\.dpeth: unknown key/ });
  t.throws(() => resnet.configure({ order: 'sideways' }, 'f.yaml'), { instanceOf: UserError, message: /model\.backbone\.order/ });
  t.notThrows(() => resnet.configure({ depth: 101 }, 'f.yaml'), 'an ImageNet depth with its own block type');
});

test.serial('the digit-sized default trains on wasm: mnist-10k, batch 16, Adam 1e-3, mean loss of steps 21-30 below 0.8x that of steps 1-10', async (t) => {
  await useBackend('wasm');
  const config = smallExperiment({ 'train.steps': 30, 'train.batchSize': 16, 'train.logEvery': 10, 'model.backbone': 'resnet' });
  const data = loadDataset('mnist-10k');
  const source = makeSplits(data, config.model.input);
  const target = makeTargetSplits(data, config.model.input, 0, 0);
  const backbone = resnet.build({ input: config.model.input, numClasses: 10, seed: 0 });
  const adapter = sourceAdapter.configure({}, 'test').create({ backbone, numClasses: 10, targetLabels: 0, seed: 0 });
  const losses = new Map<number, number>();
  await runLoop(config, adapter, source, target, { validators, observer: { onLosses: (step, terms) => losses.set(step, terms['total']!) } });
  adapter.dispose();
  const mean = (from: number, to: number) => [...Array(to - from + 1).keys()].reduce((s, i) => s + losses.get(from + i)!, 0) / (to - from + 1);
  t.is(losses.size, 30);
  t.true(mean(21, 30) < 0.8 * mean(1, 10), `first ${mean(1, 10).toFixed(3)}, last ${mean(21, 30).toFixed(3)}`);
});

test.serial('finetune freezes whole blocks: their weights and batch-norm statistics stay bit-identical, the rest trains', async (t) => {
  await useBackend('wasm');
  const config = smallExperiment({ 'train.steps': 12, 'train.batchSize': 16, 'target.labels': 10, 'model.backbone': 'resnet', adapter: { name: 'finetune', freeze: 2 } });
  const data = loadDataset('mnist-10k');
  const source = makeSplits(data, config.model.input);
  const target = makeTargetSplits(data, config.model.input, 10, 0);
  const backbone = resnet.build({ input: config.model.input, numClasses: 10, seed: 0 });
  const frozenBlocks = backbone.blocks.slice(0, 2);
  t.deepEqual(frozenBlocks.map((b) => b.name), ['stem', 'layer1.0']);
  const frozenLayers = new Set(frozenBlocks.flatMap((b) => b.layers));
  // Every weight, trainable or not (batch norm's moving mean and variance), by layer.
  const snapshot = () => new Map(backbone.encoder.layers.flatMap((l) => l.weights.map((w) => [`${l.name}/${w.originalName}`, { frozen: frozenLayers.has(l.name), values: Array.from(w.read().dataSync()) }] as const)));
  const before = snapshot();
  // Weights as a checkpoint would bring them (context.pretrained: no source phase).
  const adapter = finetuneAdapter.configure({ freeze: 2 }, 'test').create({ backbone, numClasses: 10, targetLabels: 10, seed: 0, pretrained: true });
  await runLoop(config, adapter, source, target, { validators, observer: {} });
  const after = snapshot();
  let frozenChecked = 0;
  let trained = 0;
  for (const [name, { frozen, values }] of before) {
    const same = values.every((v, i) => Object.is(v, after.get(name)!.values[i]));
    if (frozen) {
      t.true(same, `${name} changed in a frozen block`);
      frozenChecked++;
    } else if (!same) trained++;
  }
  t.true([...before.keys()].some((k) => k.includes('moving_mean') && before.get(k)!.frozen), 'a frozen block holds batch-norm statistics');
  t.true(frozenChecked >= 8, `${frozenChecked} frozen weights checked`);
  t.true(trained > 10, `${trained} weights of unfrozen blocks trained`);
  adapter.dispose();
});
