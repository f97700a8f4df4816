/**
 * dann and dsn give the same loss terms, step for step, as before the shared adversarial toolkit
 * (src/train/adversarial.ts). The expected values in test/fixtures/adversarial-golden.json were
 * recorded on wasm with the code before the toolkit (commit "test: dann and dsn losses recorded
 * before the adversarial toolkit"); regenerate only when a change of results is intended:
 * DALAB_UPDATE_GOLDEN=1 npx ava dist/test/train/adversarial-golden.test.js
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { createContainer } from '../../src/container.js';
import { ExperimentRunner } from '../../src/app/run-experiment.js';
import { digitnet } from '../../src/models/backbones.js';
import { Stepper, beginPhasesTakeLast } from '../../src/train/step.js';
import { trainSchema } from '../../src/config/schema.js';
import type { ImageSet } from '../../src/data/types.js';
import { ROOT, useBackend } from '../helpers.js';

const FIXTURE = path.join(ROOT, 'test/fixtures/adversarial-golden.json');
const update = process.env['DALAB_UPDATE_GOLDEN'] === '1';

function images(count: number, salt: number): ImageSet {
  const data = new Uint8Array(count * 28 * 28);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + salt * 7 + ((i * i) % 13)) % 256;
  return { images: data, labels: Int32Array.from({ length: count }, (_, i) => (i * 3 + salt) % 10), count, height: 28, width: 28, channels: 1 };
}

const CASES: { strategy: string; options: Record<string, unknown> }[] = [
  { strategy: 'dann', options: {} },
  { strategy: 'dann', options: { layer: 'flatten', lambda: 0.5 } },
  { strategy: 'dsn', options: {} },
  { strategy: 'dsn', options: { similarity: 'mmd' } },
];

async function record(strategy: string, options: Record<string, unknown>): Promise<Record<string, number>[]> {
  const runner = createContainer().get(ExperimentRunner);
  const factory = runner.adapterFactories().find((f) => f.name === strategy)!;
  const backbone = digitnet.build({ input: [28, 28, 1], numClasses: 10, seed: 3 });
  const adapter = factory.configure(options, 'test').create({ backbone, numClasses: 10, targetLabels: 0, seed: 3 });
  const train = trainSchema.parse({ steps: 6, batchSize: 8, seed: 3, optimizer: 'adam', lr: 0.001 });
  const stepper = new Stepper(train, beginPhasesTakeLast(adapter, train), { source: images(48, 1), targetPool: images(48, 2), targetLabelled: images(0, 3) }, 10);
  const steps: Record<string, number>[] = [];
  for (let s = 1; s <= 6; s++) {
    const { total, terms, monitors } = stepper.step(s);
    const row: Record<string, number> = { total: (await total.data())[0]! };
    for (const [k, v] of Object.entries(terms)) row[k] = (await v.data())[0]!;
    for (const [k, v] of Object.entries(monitors)) row[`monitor:${k}`] = (await v.data())[0]!;
    tf.dispose([total, ...Object.values(terms), ...Object.values(monitors)]);
    steps.push(row);
  }
  stepper.dispose();
  adapter.dispose();
  return steps;
}

test.serial('dann and dsn: the same loss terms, step for step, as before the adversarial toolkit (wasm, 6 steps)', async (t) => {
  await useBackend('wasm');
  const got: Record<string, Record<string, number>[]> = {};
  for (const c of CASES) got[`${c.strategy} ${JSON.stringify(c.options)}`] = await record(c.strategy, c.options);
  if (update) {
    fs.writeFileSync(FIXTURE, JSON.stringify(got, null, 1) + '\n');
    t.pass('fixture written');
    return;
  }
  const expected = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as typeof got;
  t.deepEqual(Object.keys(got), Object.keys(expected));
  for (const key of Object.keys(expected)) t.deepEqual(got[key], expected[key], key);
});
