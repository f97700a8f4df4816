/**
 * A run's own figures, written into its artifact folder when it ends: figures/learning_curve.*
 * (target test, target val and source test accuracy at each evaluation) and
 * figures/confusion_matrix.* (the target test set at the last evaluation), each as .vl.json, .svg
 * and .png in the report's theme.
 */
import * as path from 'node:path';
import { RUN_FILES } from '../tracking/run-files.js';
import { confusionCells, confusionFigure } from './figures/confusion_matrix.js';
import { learningCurveFigure } from './figures/learning_curves.js';
import { writeFigure } from './render.js';
import { MethodRoles } from './roles.js';

export interface RunFigureData {
  /** The strategy's name. */
  adapterName: string;
  /** Each evaluation's metrics (target_test_acc, target_val_acc, source_test_acc, ...). */
  curve: { step: number; metrics: Record<string, number> }[];
  /** The target test set's confusion matrix: confusion[trueClass][predictedClass] = count. */
  confusion: number[][];
  totalSteps: number;
}

/** The curves drawn: metric key and the split's name in the legend. */
const SERIES: [string, string][] = [
  ['target_test_acc', 'target test'],
  ['target_val_acc', 'target val'],
  ['source_test_acc', 'source test'],
];

export async function writeRunFigures(artifactDir: string, run: RunFigureData): Promise<void> {
  const dir = path.join(artifactDir, RUN_FILES.figures);
  // One split per line, no roles among them (none is a method).
  const roles = new MethodRoles();
  const points = run.curve.flatMap(({ step, metrics }) => SERIES.map(([key, name]) => ({ benchmark: '', setting: '', method: name, step, values: [metrics[key]!], seeds: [0] })));
  const curves = learningCurveFigure(points, 'single', roles, 'accuracy (%)', 'split');
  await writeFigure({ ...curves, name: 'learning_curve', spec: { ...curves.spec, title: { text: `Learning curve (${run.adapterName})`, subtitle: 'accuracy at each evaluation' } } }, dir);
  await writeFigure(confusionFigure(confusionCells(run.adapterName, run.confusion), `${run.adapterName}, step ${run.totalSteps}`, roles), dir);
}
