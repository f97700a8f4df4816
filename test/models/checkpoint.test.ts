/** Checkpoints (src/models/checkpoint.ts) and `model.from` locations (src/models/pretrained.ts). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { saveModels, fileSaveHandler } from '../../src/models/checkpoint.js';
import { loadPretrained, locateModel } from '../../src/models/pretrained.js';
import { digitnet } from '../../src/models/backbones.js';
import { UserError } from '../../src/messages.js';
import { tempDir, useBackend } from '../helpers.js';

test.serial('a saved checkpoint is found in its folder or its parent, and loads with the same weights and predictions', async (t) => {
  await useBackend('cpu');
  const built = digitnet.build({ input: [28, 28, 1], numClasses: 10, seed: 3 });
  const artifacts = tempDir();
  await saveModels({ encoder: built.encoder, classifier: built.classifier }, path.join(artifacts, 'checkpoint'));
  for (const where of [path.join(artifacts, 'checkpoint'), artifacts]) t.deepEqual(locateModel(where), { kind: 'checkpoint', location: path.join(artifacts, 'checkpoint') });
  const loaded = await loadPretrained(locateModel(artifacts), 'test');
  const x = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 7) as tf.Tensor4D;
  const predict = (b: { encoder: tf.LayersModel; classifier: tf.LayersModel }) => b.classifier.predict(b.encoder.predict(x) as tf.Tensor) as tf.Tensor;
  t.deepEqual(await predict(loaded).data(), await predict(built).data());
  t.deepEqual(loaded.blocks, built.blocks);
  // rebuild(): the same architecture, freshly initialised, each offset differently (distill's
  // teacher, dsn's private encoders).
  const [one, two] = [loaded.rebuild(1), loaded.rebuild(2)];
  for (const copy of [one, two]) {
    t.deepEqual(copy.encoder.layers.map((l) => [l.name, l.getClassName()]), loaded.encoder.layers.map((l) => [l.name, l.getClassName()]));
    t.deepEqual(copy.classifier.outputs[0]!.shape, loaded.classifier.outputs[0]!.shape);
    t.deepEqual(copy.blocks, loaded.blocks);
    t.notDeepEqual(Array.from(copy.encoder.getLayer('conv1').getWeights()[0]!.dataSync()), Array.from(loaded.encoder.getLayer('conv1').getWeights()[0]!.dataSync()));
  }
  t.notDeepEqual(Array.from(one.encoder.getLayer('conv1').getWeights()[0]!.dataSync()), Array.from(two.encoder.getLayer('conv1').getWeights()[0]!.dataSync()));
  x.dispose();
  for (const m of [built.encoder, built.classifier, loaded.encoder, loaded.classifier, one.encoder, one.classifier, two.encoder, two.classifier]) m.dispose();
});

test.serial('a single Layers model.json splits at its Dense head; a missing location is a UserError naming it', async (t) => {
  await useBackend('cpu');
  const input = tf.input({ shape: [6, 6, 1] });
  const flat = tf.layers.flatten().apply(tf.layers.conv2d({ filters: 2, kernelSize: 3, name: 'c1' }).apply(input)) as tf.SymbolicTensor;
  const whole = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 3, name: 'head' }).apply(flat) as tf.SymbolicTensor });
  const dir = tempDir();
  await whole.save(fileSaveHandler(dir));
  const located = locateModel(dir);
  t.deepEqual(located, { kind: 'layers-model', location: path.join(dir, 'model.json') });
  const backbone = await loadPretrained(located, dir);
  t.is(backbone.classifier.outputs[0]!.shape[1], 3);
  t.is(backbone.encoder.outputs[0]!.shape[1], 32);
  const missing = path.join(dir, 'nothing-here');
  t.false(fs.existsSync(missing));
  const error = t.throws(() => locateModel(missing, 'my-run'), { instanceOf: UserError });
  t.regex(error!.message, /my-run/);
  for (const m of [backbone.encoder, backbone.classifier]) m.dispose();
});
