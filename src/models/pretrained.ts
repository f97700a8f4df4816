/**
 * `model.from`: start a run from trained weights. This module takes a location on disk:
 * - a dalab checkpoint folder (`encoder/` and `classifier/`, each a tfjs Layers model), or a run's
 *   `artifacts` folder holding one (a run id is resolved to its folder by the tracker, in src/app);
 * - a single tfjs Layers `model.json` (e.g. converted from Keras with tensorflowjs_converter):
 *   its last layer must be a Dense head; everything before it becomes the encoder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UserError, messages } from '../messages.js';
import { fileLoadHandler } from './checkpoint.js';
import { weightedLayerNames, type Backbone } from './backbones.js';

export interface ModelLocation {
  kind: 'checkpoint' | 'layers-model';
  location: string;
}

/** What a folder or file holds (a checkpoint or a Layers model), or a UserError naming `from`. */
export function locateModel(location: string, from = location): ModelLocation {
  const resolved = path.resolve(location);
  for (const dir of [resolved, path.join(resolved, 'checkpoint')]) {
    if (fs.existsSync(path.join(dir, 'encoder', 'model.json')) && fs.existsSync(path.join(dir, 'classifier', 'model.json'))) return { kind: 'checkpoint', location: dir };
  }
  if (resolved.endsWith('.json') && fs.existsSync(resolved)) return { kind: 'layers-model', location: resolved };
  if (fs.existsSync(path.join(resolved, 'model.json'))) return { kind: 'layers-model', location: path.join(resolved, 'model.json') };
  throw new UserError(messages.modelFromNotFound(from));
}

function backboneOf(name: string, encoder: tf.LayersModel, classifier: tf.LayersModel): Backbone {
  // A loaded model keeps its layer names but not its blocks: each weighted layer is a block.
  const weighted = weightedLayerNames(encoder);
  return {
    name,
    encoder,
    classifier,
    blocks: weighted.map((layer) => ({ name: layer, layers: [layer] })),
    featureLayer: encoder.layers[encoder.layers.length - 1]!.name,
    diagnosticLayers: weighted.length <= 6 ? weighted : [...weighted.slice(0, 3), ...weighted.slice(-3)],
    // A teacher or a private encoder: the same architecture from the saved topology (rebuilt
    // synchronously from its config), freshly initialised with the initialisers' seeds moved by
    // the offset (two copies never start alike, nor like the original's first initialisation).
    rebuild: (offset = 1) => backboneOf(name, copyOf(encoder, offset), copyOf(classifier, offset)),
  };
}

/** Every initialiser seed in a layer config moved by `offset` (an unseeded one gets a seed). */
function reseed(value: unknown, offset: number): unknown {
  if (Array.isArray(value)) return value.map((v) => reseed(v, offset));
  if (value == null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = reseed(v, offset);
  const className = (value as { className?: unknown }).className;
  const config = out['config'] as Record<string, unknown> | undefined;
  if (typeof className === 'string' && config != null && 'seed' in config) config['seed'] = ((typeof config['seed'] === 'number' ? config['seed'] : 0) + 7777 * offset) % 2147483647;
  return out;
}

function copyOf(model: tf.LayersModel, offset: number): tf.LayersModel {
  const config = reseed(model.getConfig(), offset) as tf.serialization.ConfigDict;
  return tf.LayersModel.fromConfig(tf.LayersModel, config) as tf.LayersModel;
}

/** The backbone stored at a located model; `from` (what the user wrote) names it. */
export async function loadPretrained({ kind, location }: ModelLocation, from: string): Promise<Backbone> {
  if (kind === 'checkpoint') {
    const encoder = await tf.loadLayersModel(fileLoadHandler(path.join(location, 'encoder')));
    const classifier = await tf.loadLayersModel(fileLoadHandler(path.join(location, 'classifier')));
    return backboneOf(`pretrained:${from}`, encoder, classifier);
  }
  const whole = await tf.loadLayersModel(fileLoadHandler(path.dirname(location), path.basename(location)));
  const last = whole.layers[whole.layers.length - 1]!;
  if (last.getClassName() !== 'Dense') throw new UserError(messages.modelFromUnsplittable(location, `the last layer is ${last.getClassName()}, not Dense`));
  const featureTensor = last.input as tf.SymbolicTensor;
  if (Array.isArray(featureTensor) || featureTensor.shape.length !== 2) throw new UserError(messages.modelFromUnsplittable(location, 'the head does not take a flat feature vector'));
  const encoder = tf.model({ inputs: whole.inputs, outputs: featureTensor, name: 'encoder' });
  const f = tf.input({ shape: [featureTensor.shape[1] as number], name: 'features' });
  const classifier = tf.model({ inputs: f, outputs: last.apply(f) as tf.SymbolicTensor, name: 'classifier' });
  return backboneOf(`pretrained:${from}`, encoder, classifier);
}
