/**
 * What a run writes besides params, tags and metrics: the names and JSON shapes of its artifact
 * files (and the keys of the tags a reader classifies a run by). The one place that defines them:
 * the application writes them, the report reads them, the tests' fixture stores write them, each
 * through this module.
 *
 * Layout of a run's artifact folder:
 *   resolved-config.yaml          the experiment after defaults and --set (sweep: block removed)
 *   <experiment file>             the file as given
 *   features/start.json           FeatureSnapshotFile at step 0
 *   features/end.json             FeatureSnapshotFile after training
 *   domain_distance.json          DomainDistanceFile: per-layer MMD² before and after
 *   confusion_matrix.json         ConfusionMatrixFile of the target test set
 *   gradient_norms.json           GradientNormsFile: per-block gradient norms, blocks in depth order
 *   checkpoint/<model>/model.json tfjs Layers models (encoder, classifier, strategy modules)
 *   figures/                      the run's own figures (learning curve, confusion matrix)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FeatureSnapshot } from '../train/diagnostics.js';

export type { FeatureSnapshot };

export interface FeatureSnapshotFile extends FeatureSnapshot {
  step: number;
}

export interface DomainDistanceFile {
  /** 'mmd': MMD² with Gaussian kernels and median-heuristic bandwidths. */
  measure: string;
  /** Images per domain the distance was measured on. */
  sample: number;
  layers: { layer: string; start: number; end: number }[];
}

export interface ConfusionMatrixFile {
  rows: 'true class';
  columns: 'predicted class';
  step: number;
  /** matrix[trueClass][predictedClass] = image count. */
  matrix: number[][];
}

export interface GradientNormsFile {
  /** The backbone's blocks from the input to the head (the `grad_norm/<block>` metrics' order). */
  blocks: string[];
  /** L2 norm of the loss gradient of each block's weights at the weights after `step` updates. */
  steps: { step: number; norms: Record<string, number> }[];
}

/** Every JSON file a run writes, by its path inside the artifact folder. */
export interface RunJsonFiles {
  'features/start.json': FeatureSnapshotFile;
  'features/end.json': FeatureSnapshotFile;
  'domain_distance.json': DomainDistanceFile;
  'confusion_matrix.json': ConfusionMatrixFile;
  'gradient_norms.json': GradientNormsFile;
}
export type RunJsonFile = keyof RunJsonFiles;

export const RUN_FILES = {
  resolvedConfig: 'resolved-config.yaml',
  checkpoint: 'checkpoint',
  figures: 'figures',
} as const;

/** The run's resume checkpoints (`dalab run --resume`): `resume/step-<step>.dalab-state`, removed when the run finishes. */
export const RESUME_DIR = 'resume';

/**
 * Tags every run logs that say what its strategy is (besides `dalab.adapter`, its name); the
 * report tells the lower bound and the oracle apart by them (src/report/roles.ts).
 * family: baseline | fine-tuning | alignment | split networks | distillation;
 * target_labels: never | optional | required | oracle (how the strategy uses target labels).
 */
export const RUN_TAGS = {
  family: 'dalab.family',
  targetLabels: 'dalab.target_labels',
} as const;

/** Writes one of the run's JSON files into its artifact folder (creating sub-folders). */
export function writeRunJson<K extends RunJsonFile>(artifactDir: string, file: K, value: RunJsonFiles[K]): void {
  const target = path.join(artifactDir, ...file.split('/'));
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, JSON.stringify(value));
}

/** The parsed file, or null when the text is missing or not JSON (a run of an older version, a partial upload). */
export function parseRunJson<K extends RunJsonFile>(_file: K, text: string | null): RunJsonFiles[K] | null {
  if (text == null) return null;
  try {
    return JSON.parse(text) as RunJsonFiles[K];
  } catch {
    return null;
  }
}

/** A run's checkpoint folder inside its artifact folder. */
export function checkpointDir(artifactDir: string): string {
  return path.join(artifactDir, RUN_FILES.checkpoint);
}
