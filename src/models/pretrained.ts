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
// Registers the weight-normalised dense layer (SHOT's head) for checkpoints that hold it.
import './weight-norm.js';
import { buildHead, weightedLayerNames, type Backbone } from './backbones.js';

export interface ModelLocation {
  /** torch: a PyTorch checkpoint (`.pth`, `.pt`, `.bin`) or a `.safetensors` file of torchvision's names. */
  kind: 'checkpoint' | 'layers-model' | 'torch';
  location: string;
}

/** What every dalab checkpoint folder records beside encoder/ and classifier/ (dalab-checkpoint.json). */
export interface CheckpointMeta {
  format: 'dalab-checkpoint';
  dalab: string;
  /** The backbone and all its options, as `model.backbone` takes them. */
  backbone: { name: string; [option: string]: unknown };
  input: [number, number, number];
  numClasses: number;
  /** `model.normalize` the weights expect. */
  normalize: string;
  /** Where imported weights came from. */
  source?: { file: string; sha256: string; format: string };
}

export const CHECKPOINT_META = 'dalab-checkpoint.json';

export function readCheckpointMeta(dir: string): CheckpointMeta | null {
  const file = path.join(dir, CHECKPOINT_META);
  if (!fs.existsSync(file)) return null;
  const meta = JSON.parse(fs.readFileSync(file, 'utf8')) as CheckpointMeta;
  return meta.format === 'dalab-checkpoint' ? meta : null;
}

export function writeCheckpointMeta(dir: string, meta: CheckpointMeta): void {
  fs.writeFileSync(path.join(dir, CHECKPOINT_META), `${JSON.stringify(meta, null, 1)}\n`);
}

export const isTorchFile = (file: string): boolean => /\.(pth|pt|bin|ckpt|safetensors)$/i.test(file);

/** What a folder or file holds (a checkpoint, a Layers model or a PyTorch / safetensors file), or a UserError naming `from`. */
export function locateModel(location: string, from = location): ModelLocation {
  const resolved = path.resolve(location);
  if (isTorchFile(resolved) && fs.existsSync(resolved) && fs.statSync(resolved).isFile()) return { kind: 'torch', location: resolved };
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

/**
 * A checkpoint whose dalab-checkpoint.json names its backbone comes back as that backbone (its
 * named blocks, feature layer and rebuild), built by `build` and given the saved weights layer by
 * layer; without it (older checkpoints, Layers models) each weighted layer is a block.
 */
export type BackboneBuilder = (spec: CheckpointMeta['backbone'], input: [number, number, number], numClasses: number) => Backbone;

function copyWeightsByName(from: tf.LayersModel, to: tf.LayersModel, location: string): void {
  const source = new Map(from.layers.map((l) => [l.name, l]));
  for (const layer of to.layers) {
    if (layer.weights.length === 0) continue;
    const saved = source.get(layer.name);
    if (saved == null || saved.weights.length !== layer.weights.length) throw new UserError(messages.modelFromUnsplittable(location, `layer ${layer.name} of the recorded backbone is not in the checkpoint`));
    layer.setWeights(saved.getWeights());
  }
}

/** The head replaced by a fresh one when the class count differs (a 1,000-way ImageNet head, a 10-way task). */
export function withClasses(backbone: Backbone, numClasses: number, seed: number): Backbone {
  const units = (backbone.classifier.outputs[0]!.shape as number[]).at(-1);
  if (units === numClasses) return backbone;
  const featureSize = (backbone.classifier.inputs[0]!.shape as number[]).at(-1)!;
  backbone.classifier.dispose();
  return { ...backbone, classifier: buildHead(featureSize, numClasses, seed + 4242) };
}

/** The backbone stored at a located model; `from` (what the user wrote) names it. */
export async function loadPretrained({ kind, location }: ModelLocation, from: string, build?: BackboneBuilder): Promise<Backbone> {
  if (kind === 'torch') throw new Error('a PyTorch file is imported by src/app/weights.ts, not loaded here');
  if (kind === 'checkpoint') {
    const encoder = await tf.loadLayersModel(fileLoadHandler(path.join(location, 'encoder')));
    const classifier = await tf.loadLayersModel(fileLoadHandler(path.join(location, 'classifier')));
    const meta = readCheckpointMeta(location);
    if (meta != null && build != null) {
      const backbone = build(meta.backbone, meta.input, meta.numClasses);
      copyWeightsByName(encoder, backbone.encoder, location);
      copyWeightsByName(classifier, backbone.classifier, location);
      encoder.dispose();
      classifier.dispose();
      return backbone;
    }
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
