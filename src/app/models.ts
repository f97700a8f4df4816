/** `dalab models`: every bound backbone with the layers strategies can align and what `freeze` counts. */
import type { ExperimentRunner } from './run-experiment.js';
import { alignableLayerNames } from '../train/alignment.js';

export interface BackboneDescription {
  name: string;
  description: string;
  /** Names `adapter.layers` / `adapter.layer` take. */
  alignable: string[];
  /** What `adapter.freeze` counts, input to output. */
  freezeUnits: string[];
}

export function describeBackbones(runner: ExperimentRunner, input: [number, number, number] = [28, 28, 1]): BackboneDescription[] {
  return runner.backboneFactories().map((b) => {
    // Built once to read its layer names (cheap: no training).
    const built = b.build({ input, numClasses: 10, seed: 0 });
    const description = { name: b.name, description: b.description, alignable: alignableLayerNames(built), freezeUnits: [...built.layerNames] };
    built.encoder.dispose();
    built.classifier.dispose();
    return description;
  });
}
