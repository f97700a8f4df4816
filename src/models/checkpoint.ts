/**
 * Checkpoints in tfjs's own save format (model.json + weights.bin), written with a custom IO
 * handler since the file:// handler needs the native tfjs-node package.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';

export function fileSaveHandler(dir: string): tf.io.IOHandler {
  return tf.io.withSaveHandler(async (artifacts) => {
    fs.mkdirSync(dir, { recursive: true });
    const weightsManifest = [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }];
    const modelJson = {
      modelTopology: artifacts.modelTopology,
      format: artifacts.format ?? 'layers-model',
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy ?? null,
      weightsManifest,
    };
    const data = artifacts.weightData;
    const buffers = data == null ? [] : Array.isArray(data) ? data : [data];
    const weights = Buffer.concat(buffers.map((b) => Buffer.from(b)));
    fs.writeFileSync(path.join(dir, 'weights.bin'), weights);
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(modelJson));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.length } };
  });
}

export function fileLoadHandler(dir: string, file = 'model.json'): tf.io.IOHandler {
  return {
    async load() {
      const modelJson = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as {
        modelTopology: object;
        format?: string;
        weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
      };
      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Buffer[] = [];
      for (const group of modelJson.weightsManifest) {
        specs.push(...group.weights);
        for (const p of group.paths) buffers.push(fs.readFileSync(path.join(dir, p)));
      }
      const all = Buffer.concat(buffers);
      return {
        modelTopology: modelJson.modelTopology,
        format: modelJson.format,
        weightSpecs: specs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
      };
    },
  };
}

export async function saveModels(models: Record<string, tf.LayersModel>, dir: string): Promise<void> {
  for (const [name, model] of Object.entries(models)) await model.save(fileSaveHandler(path.join(dir, name)));
}

/** Snapshot of variable values (the checkpoint chosen by model selection), owned by the caller. */
export function snapshot(variables: readonly tf.Variable[]): tf.Tensor[] {
  return variables.map((v) => tf.keep(v.clone()));
}

export function restore(variables: readonly tf.Variable[], values: readonly tf.Tensor[]): void {
  variables.forEach((v, i) => v.assign(values[i]!));
}
