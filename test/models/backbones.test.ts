/**
 * The architectures of src/models/ (lenet, alexnet, vgg, densenet, inception, mobilenet; resnet in
 * resnet.test.ts): torchvision's trainable parameter counts at 224x224x3 with 1,000 classes (the
 * fixture written by test/fixtures/make_torchvision_counts.py with torchvision itself), output
 * shapes at 28x28x1 and 32x32x3 for each option value, strict options, and training on wasm at the
 * digit-sized default (mnist-10k, batch 16, Adam 1e-3: steps 21-30 below 0.8x steps 1-10).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import type { Backbone, BackboneFactory } from '../../src/models/backbones.js';
import { lenet } from '../../src/models/lenet.js';
import { alexnet } from '../../src/models/alexnet.js';
import { vgg } from '../../src/models/vgg.js';
import { densenet } from '../../src/models/densenet.js';
import { inception } from '../../src/models/inception.js';
import { mobilenet } from '../../src/models/mobilenet.js';
import { makeSplits, makeTargetSplits } from '../../src/data/splits.js';
import { runLoop } from '../../src/train/loop.js';
import { sourceAdapter } from '../../adapters/source.js';
import { UserError } from '../../src/messages.js';
import { ROOT, loadDataset, smallExperiment, useBackend, validators } from '../helpers.js';

const counts = JSON.parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/torchvision-counts.json'), 'utf8')) as { trainable: Record<string, number> };
const size = (shape: readonly (number | null)[]) => shape.reduce<number>((a, c) => a * (c ?? 1), 1);
const trainable = (b: Backbone) => [b.encoder, b.classifier].reduce((n, m) => n + m.trainableWeights.reduce((k, w) => k + size(w.shape), 0), 0);
const dispose = (b: Backbone) => [b.encoder, b.classifier].forEach((m) => m.dispose());

const TORCHVISION: [string, BackboneFactory, Record<string, unknown>][] = [
  ['vgg16', vgg, { variant: 'torchvision', depth: 16, norm: 'none' }],
  ['vgg16_bn', vgg, { variant: 'torchvision', depth: 16, norm: 'batch' }],
  ['alexnet', alexnet, { variant: 'torchvision' }],
  ['densenet121', densenet, { depth: 121 }],
  ['mobilenet_v2', mobilenet, { variant: 'torchvision' }],
  ['googlenet', inception, { variant: 'torchvision', aux: false }],
];

for (const [name, factory, options] of TORCHVISION) {
  test.serial(`${name} at 224x224x3 with 1,000 classes has torchvision's ${counts.trainable[name]!.toLocaleString('en')} trainable parameters`, async (t) => {
    await useBackend('cpu');
    const b = factory.configure(options, 'test').build({ input: [224, 224, 3], numClasses: 1000, seed: 0 });
    t.is(trainable(b), counts.trainable[name]!);
    dispose(b);
  });
}

const ACTIVATIONS = (['relu', 'relu6', 'sigmoid', 'tanh'] as const).map((activation) => ({ activation }));
const VARIANTS: [BackboneFactory, Record<string, unknown>[]][] = [
  [lenet, [{}, { pool: 'max' }, ...ACTIVATIONS]],
  [alexnet, [{}, { lrn: true }, { width: 0.5 }, { fc: 128 }, { dropout: 0 }, ...ACTIVATIONS]],
  [vgg, [{}, { depth: 11 }, { depth: 13 }, { depth: 19 }, { norm: 'none' }, { width: 0.25 }, { fc: 64 }, { dropout: 0.2 }, ...ACTIVATIONS]],
  [densenet, [{}, { block: 'bottleneck', depth: 22, growth: 8 }, { growth: 4 }, { compression: 1 }, { width: 2 }, { pyramidal: true }, { stemStride: 1, depth: 10 }, ...ACTIVATIONS]],
  [inception, [{}, { aux: false }, { auxWeight: 1 }, { width: 0.125 }, { dropout: 0.4 }, ...ACTIVATIONS]],
  [mobilenet, [{}, { width: 0.35 }, { width: 1 }, { dropout: 0.2 }, ...ACTIVATIONS]],
];

for (const [factory, variants] of VARIANTS) {
  test.serial(`${factory.name}: output shapes at 28x28x1 and 32x32x3 for every option value; blocks, feature and diagnostic layers exist`, async (t) => {
    await useBackend('cpu');
    for (const options of variants) {
      for (const input of [[28, 28, 1], [32, 32, 3]] as [number, number, number][]) {
        const label = `${JSON.stringify(options)} at ${input.join('x')}`;
        const b = factory.configure(options, 'test').build({ input, numClasses: 10, seed: 1 });
        const x = tf.zeros([2, ...input]);
        const logits = b.classifier.predict(b.encoder.predict(x) as tf.Tensor) as tf.Tensor;
        t.deepEqual(logits.shape, [2, 10], label);
        t.is(b.encoder.getLayer(b.featureLayer).name, b.encoder.layers[b.encoder.layers.length - 1]!.name, `${label}: the feature layer is the encoder's output`);
        for (const layer of [...b.diagnosticLayers, ...b.blocks.flatMap((k) => k.layers)]) t.notThrows(() => b.encoder.getLayer(layer), `${label}: ${layer}`);
        t.true(b.diagnosticLayers.length >= 3 && b.diagnosticLayers.length <= 8, `${label}: ${b.diagnosticLayers.length} diagnostic layers`);
        const inBlocks = b.blocks.flatMap((k) => k.layers);
        t.is(new Set(inBlocks).size, inBlocks.length, `${label}: a layer in two blocks`);
        for (const l of b.encoder.layers) if (l.weights.length > 0) t.true(inBlocks.includes(l.name), `${label}: ${l.name} in no block`);
        for (const k of b.blocks) t.true(k.layers.some((l) => b.encoder.getLayer(l).getClassName() !== 'BatchNormalization' && b.encoder.getLayer(l).trainableWeights.length > 0), `${label}: block ${k.name} has no weights of its own`);
        if (b.auxiliary != null) {
          const outs = b.auxiliary.training.apply(x, { training: true }) as tf.Tensor[];
          t.deepEqual(outs.slice(1).map((o) => o.shape), b.auxiliary.names.map(() => [2, 10]), `${label}: auxiliary logits`);
          tf.dispose(outs);
        }
        tf.dispose([x, logits]);
        dispose(b);
      }
    }
  });
}

test('options are strict: an unknown key or value is a UserError naming it', (t) => {
  t.throws(() => vgg.configure({ depth: 17 }, 'f.yaml'), { instanceOf: UserError, message: /f\.yaml: model\.backbone\.depth/ });
  t.throws(() => densenet.configure({ depth: 41, block: 'bottleneck' }, 'f.yaml'), { instanceOf: UserError, message: /model\.backbone\.depth: bottleneck layers need depth 6n\+4 .* got 41/ });
  t.throws(() => mobilenet.configure({ widht: 1 }, 'f.yaml'), { instanceOf: UserError, message: /model\.backbone\.widht: unknown key/ });
  t.throws(() => inception.configure({ activation: 'gelu' }, 'f.yaml'), { instanceOf: UserError, message: /model\.backbone\.activation/ });
  t.throws(() => alexnet.configure({ variant: 'caffe' }, 'f.yaml'), { instanceOf: UserError, message: /model\.backbone\.variant/ });
});

for (const factory of [lenet, alexnet, vgg, densenet, inception, mobilenet]) {
  test.serial(`${factory.name} at its digit-sized default trains on wasm: mnist-10k, batch 16, Adam 1e-3, mean loss of steps 21-30 below 0.8x that of steps 1-10`, async (t) => {
    await useBackend('wasm');
    const config = smallExperiment({ 'train.steps': 30, 'train.batchSize': 16, 'train.logEvery': 10, 'model.backbone': factory.name });
    const data = loadDataset('mnist-10k');
    const source = makeSplits(data, config.model.input);
    const target = makeTargetSplits(data, config.model.input, 0, 0);
    const backbone = factory.build({ input: config.model.input, numClasses: 10, seed: 0 });
    const adapter = sourceAdapter.configure({}, 'test').create({ backbone, numClasses: 10, targetLabels: 0, seed: 0 });
    const losses = new Map<number, Record<string, number>>();
    await runLoop(config, adapter, source, target, { validators, observer: { onLosses: (step, terms) => losses.set(step, { ...terms }) } });
    adapter.dispose();
    const mean = (from: number, to: number, term = 'cls') => [...Array(to - from + 1).keys()].reduce((s, i) => s + losses.get(from + i)![term]!, 0) / (to - from + 1);
    t.is(losses.size, 30);
    t.true(mean(21, 30) < 0.8 * mean(1, 10), `cls: first ${mean(1, 10).toFixed(3)}, last ${mean(21, 30).toFixed(3)}`);
    if (factory === inception) {
      // The auxiliary classifiers' terms are logged and trained too.
      t.deepEqual(Object.keys(losses.get(1)!).filter((k) => k.startsWith('aux')).sort(), ['aux1', 'aux2']);
      t.true(mean(21, 30, 'aux1') < mean(1, 10, 'aux1'), `aux1: first ${mean(1, 10, 'aux1').toFixed(3)}, last ${mean(21, 30, 'aux1').toFixed(3)}`);
      const total = losses.get(30)!;
      t.true(Math.abs(total['total']! - (total['cls']! + 0.3 * (total['aux1']! + total['aux2']!))) < 1e-4, 'total = cls + 0.3 (aux1 + aux2)');
    }
  });
}
