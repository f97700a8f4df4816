/** distill's class-balance option (French et al. 2018): the term joins the adaptation phase, ramped with the consistency weight. */
import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { createContainer } from '../../src/container.js';
import { ExperimentRunner } from '../../src/app/run-experiment.js';
import { digitnet } from '../../src/models/backbones.js';
import { classBalanceLoss } from '../../src/losses/distillation.js';
import { useBackend } from '../helpers.js';

test.serial('distill classBalance: a class_balance term with its weight (ramped as distill); absent at 0', async (t) => {
  await useBackend('wasm');
  const factory = createContainer().get(ExperimentRunner).adapterFactories().find((f) => f.name === 'distill')!;
  for (const [options, expected] of [[{ classBalance: 0.5, threshold: 0, classThresholds: false }, true], [{ classBalance: 0 }, false]] as const) {
    const backbone = digitnet.build({ input: [28, 28, 1], numClasses: 10, seed: 0 });
    const adapter = factory.configure({ ...options }, 'test').create({ backbone, numClasses: 10, targetLabels: 0, seed: 0 });
    const phase = adapter.phases(10).at(-1)!;
    if (phase.subSteps != null) return t.fail('distill has no sub-steps');
    phase.begin?.();
    t.is('class_balance' in phase.weights(1), expected);
    if (expected) t.is(phase.weights(1)['class_balance'], 0.5, 'after the ramp-up: the weight itself');
    const source = { x: tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D, y: tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 10) as tf.Tensor2D };
    const target = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
    const batch = { source, target, prepared: phase.prepare!({ source, target }, 0.5) };
    const terms = phase.loss(batch, 0.5, () => undefined);
    t.is('class_balance' in terms, expected, Object.keys(terms).join(', '));
    if (expected) {
      // With threshold 0 every image is confident: the plain class-balance loss of the student's logits on its view.
      const student = backbone.classifier.apply(backbone.encoder.apply(batch.prepared['studentView'] as tf.Tensor4D, { training: true }), { training: true }) as tf.Tensor2D;
      t.true(Math.abs(terms['class_balance']!.dataSync()[0]! - classBalanceLoss(student).dataSync()[0]!) < 1e-5);
    }
    adapter.dispose();
  }
});
