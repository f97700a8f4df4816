/** `adapter.entropy: W` adds entropy minimisation on target predictions to any strategy's adaptation phase. */
import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { createContainer } from '../../src/container.js';
import { ExperimentRunner } from '../../src/app/run-experiment.js';
import { digitnet } from '../../src/models/backbones.js';
import { entropyLoss } from '../../src/losses/confusion.js';
import { UserError } from '../../src/messages.js';
import type { SingleUpdatePhase, TrainingPhase } from '../../src/train/adapter.js';
import { useBackend } from '../helpers.js';

const factories = createContainer().get(ExperimentRunner).adapterFactories();
const factory = (name: string) => factories.find((f) => f.name === name)!;
const single = (phase: TrainingPhase): SingleUpdatePhase => {
  if (phase.subSteps != null) throw new Error(`${phase.name} has sub-steps`);
  return phase;
};

test.serial('adapter.entropy: the term, its weight and the target batch join the phase; the option is logged', async (t) => {
  await useBackend('wasm');
  for (const name of ['source', 'dann', 'mcc']) {
    const configured = factory(name).configure({ entropy: 0.25 }, 'test');
    t.is(configured.options['entropy'], 0.25, `${name}: logged as adapter.entropy`);
    const backbone = digitnet.build({ input: [28, 28, 1], numClasses: 10, seed: 0 });
    const adapter = configured.create({ backbone, numClasses: 10, targetLabels: 0, seed: 0 });
    const phase = single(adapter.phases(10).at(-1)!);
    t.true(phase.needs.targetUnlabelled, `${name}: draws target batches`);
    t.is(phase.weights(0.5)['entropy'], 0.25);
    const source = { x: tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D, y: tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 10) as tf.Tensor2D };
    const target = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
    phase.begin?.();
    const terms = phase.loss({ source, target }, 0.5, () => undefined);
    t.true('entropy' in terms, `${name}: ${Object.keys(terms).join(', ')}`);
    // The term is the entropy of the network's predictions on the target batch (training mode).
    const expected = entropyLoss(backbone.classifier.apply(backbone.encoder.apply(target, { training: true }), { training: true }) as tf.Tensor2D);
    t.true(Math.abs(terms['entropy']!.dataSync()[0]! - expected.dataSync()[0]!) < 1e-5);
    const without = factory(name).configure({}, 'test').create({ backbone: digitnet.build({ input: [28, 28, 1], numClasses: 10, seed: 0 }), numClasses: 10, targetLabels: 0, seed: 0 });
    t.false('entropy' in single(without.phases(10).at(-1)!).weights(0.5), `${name}: no term without the option`);
    tf.dispose([source.x, source.y, target, expected, ...Object.values(terms)]);
    adapter.dispose();
    without.dispose();
  }
});

test('adapter.entropy: a negative weight, or entmin (whose weight is that term), is a UserError naming the field', (t) => {
  t.throws(() => factory('dann').configure({ entropy: -1 }, 'f.yaml'), { instanceOf: UserError, message: /^f\.yaml: adapter\.entropy: expected a weight >= 0, received -1$/ });
  t.throws(() => factory('entmin').configure({ entropy: 0.1 }, 'f.yaml'), { instanceOf: UserError, message: /adapter\.entropy: not an option of strategy 'entmin'/ });
});

test("cdan's CDAN+E switch is its own option (entropyConditioning), not shadowed by adapter.entropy", (t) => {
  const both = factory('cdan').configure({ entropyConditioning: true, entropy: 0.1 }, 'f.yaml');
  t.is(both.options['entropyConditioning'], true);
  t.is(both.options['entropy'], 0.1);
  t.is(factory('cdan').configure({}, 'f.yaml').options['entropyConditioning'], true, 'CDAN+E by default');
});
