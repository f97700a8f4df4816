/**
 * Weights from elsewhere and models scored without training:
 * - `dalab weights import FILE --backbone NAME`: a torchvision state dict (`.pth` of torch.save,
 *   zip or legacy, or `.safetensors`) onto dalab's torchvision configuration of the backbone,
 *   written as a dalab checkpoint folder that `model.from` takes (dalab-checkpoint.json records
 *   the architecture, options, input shape, class count and normalisation);
 * - `dalab predict MODEL --dataset NAME --out FILE.npy`: the logits of every image of a split;
 * - `dalab eval MODEL --dataset NAME`: accuracy and per-class accuracy;
 * - `dalab weights export MODEL --out FILE.safetensors`: a checkpoint of one of torchvision's
 *   configurations as torchvision's state dict (what PyTorch's `load_state_dict` takes, and what
 *   `weights import` / `model.from` read back bit for bit).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { inject, injectable, multiInject } from 'inversify';
import YAML from 'yaml';
import { TYPES } from '../types.js';
import { UserError } from '../messages.js';
import { DALAB_VERSION } from '../version.js';
import { writeFileAtomic } from '../util/files.js';
import { DatasetRegistry } from '../data/registry.js';
import { dataRoot, describeError, fetchTo } from '../data/cache.js';
import { makeSplits, normalizeDomain } from '../data/splits.js';
import { imageSize, toFloats, type ImageSet } from '../data/types.js';
import { backboneSpec, type Backbone, type BackboneFactory } from '../models/backbones.js';
import { saveModels } from '../models/checkpoint.js';
import { CHECKPOINT_META, loadPretrained, locateModel, readCheckpointMeta, writeCheckpointMeta, type CheckpointMeta, type ModelLocation } from '../models/pretrained.js';
import { readSafetensors, writeSafetensors } from '../models/weights/safetensors.js';
import { readTorchCheckpoint } from '../models/weights/pth.js';
import { WeightsFileError, type NamedTensor } from '../models/weights/tensors.js';
import { TORCHVISION_DOWNLOADS, TORCHVISION_FAMILY, TORCHVISION_MODELS, TORCHVISION_URL, assignTorchvisionWeights, checkpointClasses, exportTorchvisionWeights, hashPrefix } from '../models/weights/torchvision.js';
import type { Tracker } from '../tracking/tracker.js';
import { DEFAULT_TRACKING_URI } from '../tracking/resolve.js';
import { RUN_FILES } from '../tracking/run-files.js';

export type Normalize = 'unit' | 'symmetric' | 'domain' | 'instance' | 'imagenet';
const NORMALIZE: readonly Normalize[] = ['unit', 'symmetric', 'domain', 'instance', 'imagenet'];

export interface ImportRequest {
  file: string;
  backbone: string;
  /** `--set opt=v` backbone options (values parsed as YAML scalars). */
  sets: string[];
  input: [number, number, number];
  normalize?: string;
  out: string;
}

export interface ImportResult {
  out: string;
  backbone: CheckpointMeta['backbone'];
  numClasses: number;
  tensors: number;
  format: string;
  ignored: string[];
}

export interface DownloadRequest {
  name: string;
  env?: NodeJS.ProcessEnv;
  /** Overrides the file name (tests serve fixture files with their own hash prefixes). */
  file?: string;
  /** Overrides the official URL's folder. */
  official?: string;
  onProgress?: (received: number, total?: number) => void;
}

/** torch.hub's cache: $TORCH_HOME/hub/checkpoints, default $XDG_CACHE_HOME/torch (~/.cache/torch). */
export function torchHubCheckpoints(env: NodeJS.ProcessEnv = process.env): string {
  const home = env['TORCH_HOME'] ?? path.join(env['XDG_CACHE_HOME'] ?? path.join(os.homedir(), '.cache'), 'torch');
  return path.join(home, 'hub', 'checkpoints');
}

/** dalab's own cache for weights it downloads: beside the data cache ($DALAB_DATA/../weights). */
export function weightsCache(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(path.dirname(dataRoot(env)), 'weights');
}

const sha256Of = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/**
 * A torchvision checkpoint by name: found in torch.hub's cache or dalab's (its hash prefix
 * checked), else fetched from DALAB_WEIGHTS_MIRROR/<file>, then the official URL, into dalab's
 * cache: streamed to a temporary file, renamed into place only when complete with the right hash.
 */
export async function downloadWeights(request: DownloadRequest): Promise<{ file: string; fetched: boolean; from: string }> {
  const env = request.env ?? process.env;
  const name = request.file ?? TORCHVISION_DOWNLOADS[request.name];
  if (name == null) throw new UserError(`weights download: unknown checkpoint '${request.name}' (available: ${Object.keys(TORCHVISION_DOWNLOADS).join(', ')})`);
  const prefix = hashPrefix(name);
  const matches = (sha: string) => prefix == null || sha.startsWith(prefix);
  for (const dir of [torchHubCheckpoints(env), weightsCache(env)]) {
    const candidate = path.join(dir, name);
    if (fs.existsSync(candidate)) {
      if (matches(sha256Of(candidate))) return { file: candidate, fetched: false, from: dir };
      throw new UserError(`weights download ${request.name}: ${candidate} does not have the SHA-256 prefix ${prefix} its name promises (a damaged copy; delete it)`);
    }
  }
  const cache = weightsCache(env);
  fs.mkdirSync(cache, { recursive: true });
  const mirror = env['DALAB_WEIGHTS_MIRROR']?.replace(/\/+$/, '');
  const urls = [...(mirror ? [`${mirror}/${name}`] : []), `${request.official ?? TORCHVISION_URL}/${name}`];
  const tries: string[] = [];
  const target = path.join(cache, name);
  for (const url of urls) {
    const tmp = path.join(cache, `.partial-${name}-${process.pid}`);
    try {
      const digests = await fetchTo(url, tmp, (received, total) => request.onProgress?.(received, total));
      if (!matches(digests.sha256)) throw new Error(`SHA-256 ${digests.sha256.slice(0, 12)}… does not start with ${prefix}`);
      fs.renameSync(tmp, target);
      return { file: target, fetched: true, from: url };
    } catch (error) {
      tries.push(`${url}: ${describeError(error)}`);
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }
  throw new UserError(`weights download ${request.name}: ${name} could not be fetched: ${tries.join('; ')}`);
}

/** A state dict's tensors from a `.safetensors` or a torch.save file (by content, not by name). */
export function readStateDict(file: string): { tensors: NamedTensor[]; format: string; bytes: Buffer } {
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new WeightsFileError(file, 'no such file');
  const bytes = fs.readFileSync(file);
  try {
    return parseStateDict(bytes, file);
  } catch (error) {
    if (error instanceof UserError) throw error;
    // A damaged file the checks above did not foresee (an offset past the end, ...): still one line.
    throw new WeightsFileError(file, `damaged or truncated (${(error as Error).message})`);
  }
}

function parseStateDict(bytes: Buffer, file: string): { tensors: NamedTensor[]; format: string; bytes: Buffer } {
  const zipOrPickle = bytes.length >= 2 && ((bytes[0] === 0x50 && bytes[1] === 0x4b) || bytes[0] === 0x80);
  if (file.toLowerCase().endsWith('.safetensors') || !zipOrPickle) return { tensors: readSafetensors(bytes, file).tensors, format: 'safetensors', bytes };
  const checkpoint = readTorchCheckpoint(bytes, file);
  return { tensors: checkpoint.tensors, format: `torch ${checkpoint.format}`, bytes };
}

const importable = () => [...new Set([...Object.keys(TORCHVISION_MODELS), ...Object.keys(TORCHVISION_FAMILY)])].join(', ');

@injectable()
export class WeightsService {
  constructor(
    @multiInject(TYPES.BackboneFactory) private readonly backbones: BackboneFactory[],
    @inject(TYPES.TrackerFactory) private readonly trackerFor: (uri: string) => Tracker,
    @inject(DatasetRegistry) private readonly datasets: DatasetRegistry,
  ) {}

  private factory(name: string): BackboneFactory {
    const factory = this.backbones.find((b) => b.name === name);
    if (factory == null) throw new UserError(`--backbone: unknown backbone '${name}' (allowed: ${importable()})`);
    return factory;
  }

  /**
   * torchvision's configuration: a torchvision name (`resnet18`), or a dalab family with the
   * options that make it torchvision's (`resnet` + `--set depth=50`), `--set` on top.
   */
  torchvisionSpec(name: string, options: Record<string, unknown>): CheckpointMeta['backbone'] {
    const known = TORCHVISION_MODELS[name];
    const family = known?.backbone ?? name;
    const defaults = known?.options ?? TORCHVISION_FAMILY[name];
    if (defaults == null) {
      this.factory(name);
      throw new UserError(`--backbone ${name}: torchvision has no such network to import (importable: ${importable()})`);
    }
    const configured = this.factory(family).configure({ ...defaults, ...options }, '--set');
    return { name: family, ...configured.options };
  }

  build(spec: CheckpointMeta['backbone'], input: [number, number, number], numClasses: number, seed = 0): Backbone {
    const { name, options } = backboneSpec(spec);
    return this.factory(name).configure(options, 'checkpoint').build({ input, numClasses, seed });
  }

  /** A torchvision state dict as a backbone (the class count its head has). */
  fromStateDict(file: string, spec: CheckpointMeta['backbone'], input: [number, number, number]): { backbone: Backbone; numClasses: number; format: string; sha256: string; tensors: number; ignored: string[] } {
    const { tensors, format, bytes } = readStateDict(file);
    const numClasses = checkpointClasses(tensors, file);
    let backbone: Backbone;
    try {
      backbone = this.build(spec, input, numClasses);
    } catch (error) {
      if (error instanceof UserError) throw error;
      throw new UserError(`--input ${input.join(',')}: ${spec.name} cannot be built at this size (${(error as Error).message})`);
    }
    try {
      const report = assignTorchvisionWeights(backbone, tensors, file);
      return { backbone, numClasses, format, sha256: createHash('sha256').update(bytes).digest('hex'), tensors: tensors.length, ignored: report.ignored };
    } catch (error) {
      backbone.encoder.dispose();
      backbone.classifier.dispose();
      throw error;
    }
  }

  async importWeights(request: ImportRequest): Promise<ImportResult> {
    const normalize = parseNormalize(request.normalize ?? 'unit', request.input);
    const spec = this.torchvisionSpec(request.backbone, parseSets(request.sets));
    const imported = this.fromStateDict(request.file, spec, request.input);
    const meta: CheckpointMeta = {
      format: 'dalab-checkpoint',
      dalab: DALAB_VERSION,
      backbone: spec,
      input: request.input,
      numClasses: imported.numClasses,
      normalize,
      source: { file: path.resolve(request.file), sha256: imported.sha256, format: imported.format },
    };
    // Written next to the destination and renamed into place: a failure leaves nothing behind.
    const out = path.resolve(request.out);
    const partial = `${out}.partial-${process.pid}`;
    fs.rmSync(partial, { recursive: true, force: true });
    try {
      await saveModels({ encoder: imported.backbone.encoder, classifier: imported.backbone.classifier }, partial);
      writeCheckpointMeta(partial, meta);
      fs.rmSync(out, { recursive: true, force: true });
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.renameSync(partial, out);
    } finally {
      fs.rmSync(partial, { recursive: true, force: true });
      imported.backbone.encoder.dispose();
      imported.backbone.classifier.dispose();
    }
    return { out, backbone: spec, numClasses: imported.numClasses, tensors: imported.tensors, format: imported.format, ignored: imported.ignored };
  }

  /** The torchvision network a recorded backbone is (`resnet18`, ...), or null when it is none of them. */
  torchvisionName(spec: CheckpointMeta['backbone']): string | null {
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    const sorted = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
    for (const [name, known] of Object.entries(TORCHVISION_MODELS)) {
      if (known.backbone !== spec.name) continue;
      if (same(sorted(this.torchvisionSpec(name, {})), sorted(spec))) return name;
    }
    return null;
  }

  /**
   * A dalab checkpoint of one of torchvision's configurations written as torchvision's state dict
   * in a .safetensors file (atomically; nothing is written on any error).
   */
  async exportWeights(model: string, out: string): Promise<{ out: string; torchvision: string; tensors: number; numClasses: number; meta: CheckpointMeta }> {
    if (!out.endsWith('.safetensors')) throw new UserError(`--out ${out}: expected a .safetensors file`);
    const { backbone, meta } = await this.loadModel(model);
    try {
      const name = this.torchvisionName(meta.backbone);
      if (name == null) {
        const { name: family, ...options } = meta.backbone;
        throw new UserError(`${model}: its backbone ${family} ${JSON.stringify(options)} is not one of torchvision's configurations, so it has no torchvision names (exportable: ${Object.keys(TORCHVISION_MODELS).join(', ')}; train with e.g. model.backbone: { name: resnet, depth: 18, width: 1 })`);
      }
      const tensors = exportTorchvisionWeights(backbone, meta.backbone.name);
      const numClasses = (backbone.classifier.outputs[0]!.shape as number[]).at(-1)!;
      const metadata = { format: 'pt', torchvision: name, dalab: DALAB_VERSION, input: meta.input.join(','), normalize: meta.normalize };
      const file = path.resolve(out);
      writeFileAtomic(file, writeSafetensors(tensors, metadata));
      return { out: file, torchvision: name, tensors: tensors.length, numClasses, meta };
    } finally {
      backbone.encoder.dispose();
      backbone.classifier.dispose();
    }
  }

  /** MODEL: a run id of the tracking store, a checkpoint folder (a run's or an imported one). */
  async loadModel(model: string): Promise<{ backbone: Backbone; meta: CheckpointMeta }> {
    let location: ModelLocation | null = null;
    let runConfig: string | null = null;
    if (/^[0-9a-f]{32}$/.test(model)) {
      const tracker = this.trackerFor(process.env['MLFLOW_TRACKING_URI'] ?? DEFAULT_TRACKING_URI);
      const folder = await tracker.checkpointOf(model);
      if (folder != null) {
        location = locateModel(folder, model);
        runConfig = path.join(path.dirname(folder), RUN_FILES.resolvedConfig);
      }
    }
    location ??= locateModel(model);
    if (location.kind !== 'checkpoint') throw new UserError(`${model}: not a dalab checkpoint (import a PyTorch or safetensors file first: dalab weights import)`);
    let meta = readCheckpointMeta(location.location);
    if (meta == null) {
      // A run's checkpoint from before dalab-checkpoint.json: its resolved config says the rest.
      const config = runConfig ?? path.join(path.dirname(location.location), RUN_FILES.resolvedConfig);
      if (!fs.existsSync(config)) throw new UserError(`${model}: the checkpoint has no ${CHECKPOINT_META} and no ${RUN_FILES.resolvedConfig} beside it: its input shape and normalisation are unknown`);
      const resolved = YAML.parse(fs.readFileSync(config, 'utf8')) as { model: { backbone: string | { name: string }; input: [number, number, number]; normalize: string } };
      const spec = typeof resolved.model.backbone === 'string' ? { name: resolved.model.backbone } : resolved.model.backbone;
      meta = { format: 'dalab-checkpoint', dalab: 'unknown', backbone: spec, input: resolved.model.input, numClasses: 0, normalize: resolved.model.normalize };
    }
    const backbone = await loadPretrained(location, model, (spec, input, numClasses) => this.build(spec, input, numClasses));
    return { backbone, meta };
  }

  /** The split of a dataset as the model sees it: resized to its input, normalised as it records. */
  split(dataset: string, split: string, meta: CheckpointMeta): ImageSet {
    if (!['train', 'val', 'test'].includes(split)) throw new UserError(`--split: '${split}' is not one of train, val, test`);
    this.datasets.check(dataset, '--dataset');
    const splits = makeSplits(this.datasets.load(dataset, '--dataset'), meta.input);
    return normalizeDomain(splits, meta.normalize as Normalize)[split as 'train' | 'val' | 'test'];
  }

  /** Logits [N, K] of every image of `set`, in order, in batches. */
  logits(backbone: Backbone, set: ImageSet, batch = 128): { data: Float32Array; classes: number } {
    const classes = (backbone.classifier.outputs[0]!.shape as number[]).at(-1)!;
    const data = new Float32Array(set.count * classes);
    const buffer = new Float32Array(batch * imageSize(set));
    for (let first = 0; first < set.count; first += batch) {
      const n = Math.min(batch, set.count - first);
      toFloats(set, first, n, buffer);
      const values = tf.tidy(() => {
        const x = tf.tensor4d(buffer.subarray(0, n * imageSize(set)), [n, set.height, set.width, set.channels]);
        return backbone.classifier.predict(backbone.encoder.predict(x) as tf.Tensor) as tf.Tensor;
      });
      data.set(values.dataSync() as Float32Array, first * classes);
      values.dispose();
    }
    return { data, classes };
  }
}

export function parseNormalize(value: string, input: readonly number[]): Normalize {
  if (!NORMALIZE.includes(value as Normalize)) throw new UserError(`--normalize: '${value}' is not one of ${NORMALIZE.join(', ')}`);
  if (value === 'imagenet' && input[2] !== 3) throw new UserError(`--normalize imagenet needs 3 channels; --input has ${input[2]}`);
  return value as Normalize;
}

/** `--set depth=50 --set block=bottleneck`: backbone options, values as YAML scalars. */
export function parseSets(sets: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new UserError(`--set ${s}: expected option=value, e.g. --set depth=50`);
    out[s.slice(0, eq)] = YAML.parse(s.slice(eq + 1));
  }
  return out;
}

/** A float32 array as a NumPy .npy file (format 1.0, C order). */
export function npyBytes(data: Float32Array, shape: readonly number[]): Buffer {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(64 - ((10 + header.length + 1) % 64 || 64)) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

export interface Scores {
  accuracy: number;
  perClass: (number | null)[];
  count: number;
}

export function score(logits: Float32Array, classes: number, labels: Int32Array): Scores {
  const right = new Array<number>(classes).fill(0);
  const seen = new Array<number>(classes).fill(0);
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (logits[i * classes + k]! > logits[i * classes + best]!) best = k;
    const y = labels[i]!;
    if (y >= 0 && y < classes) seen[y]! += 1;
    if (best === y) {
      correct += 1;
      right[y]! += 1;
    }
  }
  return { accuracy: labels.length === 0 ? 0 : correct / labels.length, perClass: seen.map((n, k) => (n === 0 ? null : right[k]! / n)), count: labels.length };
}
