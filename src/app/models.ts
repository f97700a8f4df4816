/** `dalab models`: every bound backbone with its blocks (what `freeze` counts), layers and size. */
import type { ExperimentRunner } from './run-experiment.js';
import { alignableLayerNames } from '../train/alignment.js';
import { blockNames } from '../models/backbones.js';
import { UserError, messages } from '../messages.js';

export interface BackboneDescription {
  name: string;
  description: string;
  input: [number, number, number];
  /** Trainable parameters, the 10-way head included. */
  parameters: number;
  /** Names `adapter.layers` / `adapter.layer` take. */
  alignable: string[];
  /** The layer alignment strategies read by default. */
  featureLayer: string;
  /** The layers the run's diagnostics measure. */
  diagnosticLayers: string[];
  /** What `adapter.freeze` counts, input to output. */
  freezeUnits: string[];
}

/** `H,W,C` as `--input` gives it. */
export function parseInputShape(text: string): [number, number, number] {
  const parts = text.split(',').map((p) => Number(p.trim()));
  if (parts.length !== 3 || parts.some((p) => !Number.isInteger(p) || p < 1) || (parts[2] !== 1 && parts[2] !== 3)) throw new UserError(messages.badInputShape(text));
  return parts as [number, number, number];
}

/** Every bound backbone at its default options, built at `input` (default: each backbone's own default input). */
export function describeBackbones(runner: ExperimentRunner, input?: [number, number, number]): BackboneDescription[] {
  return runner.backboneFactories().map((b) => {
    // Built once to read its layer names (cheap: no training).
    const shape = input ?? b.defaultInput;
    const built = b.build({ input: shape, numClasses: 10, seed: 0 });
    const parameters = [built.encoder, built.classifier].reduce((n, m) => n + m.countParams(), 0) - built.encoder.nonTrainableWeights.reduce((n, w) => n + w.shape.reduce<number>((a, c) => a * (c ?? 1), 1), 0);
    const description = {
      name: b.name,
      description: b.description,
      input: shape,
      parameters,
      alignable: alignableLayerNames(built),
      featureLayer: built.featureLayer,
      diagnosticLayers: [...built.diagnosticLayers],
      freezeUnits: blockNames(built),
    };
    built.encoder.dispose();
    built.classifier.dispose();
    return description;
  });
}
