import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'ava';
import { tempDir } from '../helpers.js';
import { writeRunFigures } from '../../src/report/run-figures.js';
import { compile } from '../../src/report/render.js';
import { RUN_FILES } from '../../src/tracking/run-files.js';

test("a run's own figures: learning curve and confusion matrix under figures/, as .vl.json, .svg and .png", async (t) => {
  const dir = tempDir();
  const curve = [100, 200].map((step) => ({ step, metrics: { target_test_acc: step / 400, target_val_acc: step / 500, source_test_acc: step / 250 } }));
  await writeRunFigures(dir, { adapterName: 'dann', curve, confusion: [[3, 1], [0, 4]], totalSteps: 200 });
  const figures = path.join(dir, RUN_FILES.figures);
  t.deepEqual(fs.readdirSync(figures).sort(), ['confusion_matrix.png', 'confusion_matrix.svg', 'confusion_matrix.vl.json', 'learning_curve.png', 'learning_curve.svg', 'learning_curve.vl.json']);
  const lc = JSON.parse(fs.readFileSync(path.join(figures, 'learning_curve.vl.json'), 'utf8'));
  t.deepEqual(lc.title, { text: 'Learning curve (dann)', subtitle: 'accuracy at each evaluation' });
  t.is(lc.data.values.length, 6, 'three splits at two evaluations');
  t.deepEqual(lc.data.values[0], { kind: 'mean', panel: '', method: 'target test', step: 100, n: 1, mean: 25, low: 25, high: 25, interval: 'range' });
  const cm = JSON.parse(fs.readFileSync(path.join(figures, 'confusion_matrix.vl.json'), 'utf8'));
  t.is(cm.title.subtitle, 'dann, step 200');
  t.deepEqual(cm.data.values.map((v: { rate: number }) => v.rate), [0.75, 0.25, 0, 1]);
  t.notThrows(() => compile(lc));
  t.notThrows(() => compile(cm));
});
