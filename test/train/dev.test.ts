/** The `dev` validator's risk estimate against the NumPy implementation (test/fixtures/make_dev_fixtures.py). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'ava';
import { devRisk, devValidator } from '../../src/train/validators/dev.js';
import { EMPTY_SELECTION, updateSelection } from '../../src/train/validators/validator.js';
import { ROOT } from '../helpers.js';

const { cases } = JSON.parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/dev.json'), 'utf8')) as { cases: { name: string; source: number[][]; loss: number[]; target: number[][]; risk: number }[] };

test('dev: the DEV risk equals NumPy\'s (importance weights from a domain classifier, control variate)', (t) => {
  t.is(cases.length, 3);
  for (const c of cases) {
    const d = c.source[0]!.length;
    const input = { source: c.source.flat(), sourceLoss: c.loss, target: c.target.flat(), d };
    const risk = devRisk(input);
    t.true(Math.abs(risk - c.risk) <= 1e-6 * Math.max(1, Math.abs(c.risk)), `${c.name}: ${risk} vs ${c.risk}`);
    // The validator scores -risk (higher is better), here from float32 features as the loop gives them.
    const score = devValidator.score({ step: 0, targetPool: { probs: [], n: 0, k: 0 }, sourceVal: {} as never, targetVal: {} as never, features: { source: Float32Array.from(input.source), sourceLoss: Float32Array.from(c.loss), target: Float32Array.from(input.target), d } });
    t.true(Math.abs(score + c.risk) <= 1e-4 * Math.max(1, Math.abs(c.risk)), `${c.name}: score ${score}`);
  }
});

test('dev: with identical domains the weights are ~1 and the risk is the plain mean loss', (t) => {
  const source = Array.from({ length: 50 * 3 }, (_, i) => Math.sin(i * 1.7));
  const loss = Array.from({ length: 50 }, (_, i) => 0.5 + 0.01 * i);
  const risk = devRisk({ source, sourceLoss: loss, target: source, d: 3 });
  const mean = loss.reduce((a, b) => a + b, 0) / loss.length;
  t.true(Math.abs(risk - mean) < 1e-6, `${risk} vs ${mean}`);
});

test('dev: an empty or one-image source validation sample gives NaN at once (a 4-image dataset once looped forever); NaN never wins a selection', (t) => {
  const target = Array.from({ length: 4 * 3 }, (_, i) => Math.cos(i));
  t.true(Number.isNaN(devRisk({ source: [], sourceLoss: [], target, d: 3 })));
  t.true(Number.isNaN(devRisk({ source: [1, 2, 3], sourceLoss: [0.5], target, d: 3 })));
  t.true(Number.isNaN(devRisk({ source: [], sourceLoss: [], target: [], d: 0 })));
  let state = updateSelection(EMPTY_SELECTION, { step: 1, score: NaN, metrics: {}, targetValAcc: 0, targetTestAcc: 0 }).state;
  const later = updateSelection(state, { step: 2, score: -3, metrics: {}, targetValAcc: 0, targetTestAcc: 0 });
  t.true(later.improved);
  state = later.state;
  t.false(updateSelection(state, { step: 3, score: NaN, metrics: {}, targetValAcc: 0, targetTestAcc: 0 }).improved);
  t.is(state.best!.step, 2);
});
