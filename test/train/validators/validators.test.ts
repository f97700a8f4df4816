import test from 'ava';
import { entropyScore, imScore, sndScore } from '../../../src/train/validators/scores.js';
import { EMPTY_SELECTION, updateSelection } from '../../../src/train/validators/validator.js';
import { runLoop } from '../../../src/train/loop.js';
import { makeSplits, makeTargetSplits } from '../../../src/data/splits.js';
import { digitnet } from '../../../src/models/backbones.js';
import { sourceAdapter } from '../../../adapters/source.js';
import { smallExperiment, useBackend, loadDataset, validators } from '../../helpers.js';

const close = (a: number, b: number) => Math.abs(a - b) < 1e-12;
const h = (ps: number[]) => -ps.reduce((s, p) => s + (p > 0 ? p * Math.log(p) : 0), 0);

test('entropy and information maximisation on hand-made predictions', (t) => {
  // Rows [1, 0] and [0.5, 0.5]: entropies 0 and ln 2; marginal [0.75, 0.25].
  const probs = [1, 0, 0.5, 0.5];
  t.true(close(entropyScore(probs, 2, 2), -Math.LN2 / 2));
  t.true(close(imScore(probs, 2, 2), h([0.75, 0.25]) - Math.LN2 / 2));
});

test('soft neighbourhood density on hand-made predictions', (t) => {
  // p1 = p2 = [1, 0], p3 = [0, 1]; tau = 0.05. Row 1: similarities 1/tau to p2 and 0 to p3, so
  // q = [sigmoid(20), 1 - sigmoid(20)]; row 2 the same; row 3: 0 and 0, so q is uniform (ln 2).
  const s = 1 / (1 + Math.exp(-20));
  const expected = (2 * h([s, 1 - s]) + Math.LN2) / 3;
  t.true(close(sndScore([1, 0, 1, 0, 0, 1], 3, 2), expected), `${sndScore([1, 0, 1, 0, 0, 1], 3, 2)} vs ${expected}`);
});

test('confident, diverse predictions score higher than uniform ones on every validator', (t) => {
  const k = 4;
  const n = 40;
  const confident: number[] = [];
  const uniform: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      confident.push(j === i % k ? 0.9 + 0.01 * (i % 3) : (0.1 - 0.01 * (i % 3)) / (k - 1));
      uniform.push(1 / k);
    }
  }
  const scores = (probs: number[]) => ({ entropy: entropyScore(probs, n, k), im: imScore(probs, n, k), snd: sndScore(probs, n, k) });
  const a = scores(confident);
  const b = scores(uniform);
  t.true(a.entropy > b.entropy);
  t.true(a.im > b.im);
  // Identical (uniform) predictions make every neighbour equally similar: SND's maximum, ln(n - 1),
  // its known degenerate case; four tight class clusters give each point about 9 close neighbours.
  t.true(close(b.snd, Math.log(n - 1)));
  t.true(Math.abs(a.snd - Math.log(9)) < 0.1, `snd ${a.snd}`);
});

for (const by of ['entropy', 'im', 'snd'] as const) {
  test.serial(`select.by=${by} keeps the checkpoint its validator scores best, and logs every validator each evaluation`, async (t) => {
    await useBackend('wasm');
    const config = smallExperiment({ 'train.steps': 40, 'train.evalEvery': 10, 'select.by': by });
    const data = loadDataset('mnist-10k', 'source.dataset');
    const source = makeSplits(data, config.model.input);
    const target = makeTargetSplits(data, config.model.input, 0, 0);
    const backbone = digitnet.build({ input: config.model.input, numClasses: 10, seed: 0 });
    const adapter = sourceAdapter.configure({}, 'test').create({ backbone, numClasses: 10, targetLabels: 0, seed: 0 });
    const evaluations: { step: number; metrics: Record<string, number> }[] = [];
    const result = await runLoop(config, adapter, source, target, { validators, observer: { onEvaluation: (step, metrics) => evaluations.push({ step, metrics }) } });
    adapter.dispose();
    t.deepEqual(evaluations.map((e) => e.step), [10, 20, 30, 40]);
    for (const e of evaluations) for (const v of ['entropy', 'im', 'snd']) t.true(Number.isFinite(e.metrics[`select/${v}`]), `select/${v} at ${e.step}`);
    const best = evaluations.reduce((a, b) => (b.metrics[`select/${by}`]! > a.metrics[`select/${by}`]! ? b : a));
    t.log(`${by}: ${evaluations.map((e) => `${e.step}:${e.metrics[`select/${by}`]!.toFixed(4)}`).join(' ')} -> step ${result.selectedStep}`);
    t.is(result.selectedStep, best.step);
    t.is(result.selected['target_test_acc'], best.metrics['target_test_acc']);
  });
}

test('validators are objects: only the oracle reads target labels; every bound name is unique', (t) => {
  const names = validators.map((v) => v.name);
  t.deepEqual([...names].sort(), ['dev', 'entropy', 'im', 'last', 'oracle', 'snd', 'source-val']);
  t.deepEqual(validators.filter((v) => v.readsTargetLabels).map((v) => v.name), ['oracle']);
  const evaluation = (accuracy: number) => ({ accuracy, perClass: [], ece: 0, count: 1, confusion: [] });
  const inputs = { step: 30, targetPool: { probs: [0.5, 0.5], n: 1, k: 2 }, sourceVal: evaluation(0.8), targetVal: evaluation(0.6) };
  const score = (name: string) => validators.find((v) => v.name === name)!.score(inputs);
  t.is(score('last'), 30);
  t.is(score('source-val'), 0.8);
  t.is(score('oracle'), 0.6);
  t.true(Math.abs(score('entropy') + Math.LN2) < 1e-12);
});

test('selection state is a plain value: a better score replaces the best, a worse one keeps it; the oracle follows target val', (t) => {
  let state = EMPTY_SELECTION;
  const at = (step: number, score: number, targetValAcc: number) => {
    const u = updateSelection(state, { step, score, metrics: { step }, targetValAcc, targetTestAcc: targetValAcc / 2 });
    state = u.state;
    return u.improved;
  };
  t.true(at(10, 0.5, 0.3));
  t.false(at(20, 0.4, 0.9));
  t.true(at(30, 0.6, 0.1));
  t.deepEqual(state, { best: { step: 30, score: 0.6, metrics: { step: 30 } }, oracle: { score: 0.9, targetTestAcc: 0.45 } });
  t.deepEqual(JSON.parse(JSON.stringify(state)), state, 'survives a JSON round trip (what a checkpoint would save)');
  t.deepEqual(EMPTY_SELECTION, { best: null, oracle: null }, 'the empty state is never mutated');
});
