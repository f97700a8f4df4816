/**
 * Resume checkpoints: everything the next training step depends on, in one file per checkpoint.
 *
 *   - every weight of every model the strategy trains or keeps (teachers, discriminators, batch-norm
 *     statistics), layer by layer;
 *   - each variable group's optimiser state (Adam's moments, bias-correction powers, iteration);
 *   - each batch stream's position (epoch, index; the permutation follows from the seed) and its
 *     augmentation generator's state (the per-step augmentation is seeded by the step);
 *   - the step, the phase, the strategy's own counters, the model-selection state with the selected
 *     weights, the last evaluation, and the caller's own record (`extra`);
 *   - the dalab version (a checkpoint of another version is refused).
 *
 * Format: safetensors (src/models/weights/safetensors.ts), the JSON record in its metadata under
 * `dalab_resume`; non-finite numbers in the record are written as {"$num": "NaN"} (JSON has none).
 * Files are `step-<step>.dalab-state` in the run's state folder, written atomically (partial file,
 * fsync, rename); the previous one is removed only after the new one is complete; the last
 * KEEP_CHECKPOINTS are kept.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readSafetensors, writeSafetensors } from '../models/weights/safetensors.js';
import { writeFileAtomic } from '../util/files.js';
import type { SavedArrays } from './flat-adam.js';
import type { StepperState } from './step.js';
import type { SelectionState } from './validators/validator.js';
import type { Evaluation } from './evaluate.js';

export const KEEP_CHECKPOINTS = 2;
const SUFFIX = '.dalab-state';
const METADATA_KEY = 'dalab_resume';

/** The JSON part of a checkpoint. */
export interface CheckpointRecord {
  format: 'dalab-resume';
  /** The dalab version that wrote it. */
  dalab: string;
  /** Steps done over all phases. */
  step: number;
  /** The phase in progress (index) and the steps done in it. */
  phase: number;
  local: number;
  stepper: { streams: StepperState['streams']; optimizers: { json: Record<string, unknown> }[] };
  selection: SelectionState;
  /** Whether the selected weights are stored (`selected/...`). */
  selectedWeights: boolean;
  last: Record<string, number>;
  lastTargetEval: Evaluation | null;
  /** The strategy's own state (Adapter.saveState). */
  adapter: Record<string, unknown> | null;
  /** Names of the models whose weights are stored, in order. */
  models: string[];
  /** The caller's record (learning curve, diagnostics at the start, ...). */
  extra: unknown;
  /** Source batches drawn after the source phase so far (absent in older checkpoints: 0). */
  sourceBatchesAfterSourcePhase?: number;
}

export interface LoadedCheckpoint {
  file: string;
  record: CheckpointRecord;
  arrays: SavedArrays;
}

/** A checkpoint that cannot be used (another version, damaged, another configuration). */
export class CheckpointError extends Error {}

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return { $num: String(value) };
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value != null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === '$num') return Number((value as { $num: string }).$num);
  }
  return value;
}

/** Weights of a model in a fixed order: layer by layer, each layer's weights in order (a frozen model lists `model.weights` in another order). */
export function layerWeights(model: tf.LayersModel): tf.Variable[] {
  return model.layers.flatMap((layer) => layer.weights.map((w) => w.read() as tf.Variable));
}

/** Encodes a checkpoint; throws when a weight is not finite (a diverged state is never saved as good). */
export function encodeCheckpoint(record: CheckpointRecord, tensors: readonly { name: string; tensor: tf.Tensor }[]): Buffer {
  const list = tensors.map(({ name, tensor }) => {
    const data = tensor.dtype === 'float32' ? (tensor.dataSync() as Float32Array) : Float32Array.from(tensor.dataSync());
    if (name.startsWith('w/')) {
      for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) throw new NonFiniteWeightError(name, data[i]!);
    }
    return { name, shape: tensor.shape, data };
  });
  return writeSafetensors(list, { [METADATA_KEY]: JSON.stringify(record, replacer) });
}

export class NonFiniteWeightError extends Error {
  constructor(
    readonly weight: string,
    readonly value: number,
  ) {
    super(`weight ${weight} holds ${value}`);
  }
}

export function decodeCheckpoint(bytes: Uint8Array, file: string): LoadedCheckpoint {
  const parsed = readSafetensors(bytes, file);
  const text = parsed.metadata[METADATA_KEY];
  if (text == null) throw new CheckpointError(`${file}: not a dalab resume checkpoint`);
  const record = JSON.parse(text, reviver) as CheckpointRecord;
  if (record.format !== 'dalab-resume') throw new CheckpointError(`${file}: not a dalab resume checkpoint`);
  const arrays: Record<string, { shape: readonly number[]; data: Float32Array }> = {};
  for (const t of parsed.tensors) arrays[t.name] = { shape: t.shape, data: t.data };
  return { file, record, arrays };
}

/** Checkpoint files in `dir`, newest (highest step) first. */
export function checkpointFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => /^step-\d+\.dalab-state$/.test(f))
    .sort((a, b) => Number(b.slice(5, -SUFFIX.length)) - Number(a.slice(5, -SUFFIX.length)))
    .map((f) => path.join(dir, f));
}

/** Writes the checkpoint of `step` atomically, then removes all but the newest KEEP_CHECKPOINTS. */
export function writeCheckpointFile(dir: string, step: number, bytes: Uint8Array): string {
  const file = path.join(dir, `step-${String(step).padStart(9, '0')}${SUFFIX}`);
  writeFileAtomic(file, bytes, { fsync: true });
  for (const old of checkpointFiles(dir).slice(KEEP_CHECKPOINTS)) fs.rmSync(old, { force: true });
  return file;
}

/**
 * The newest readable checkpoint in `dir` (a damaged newest one falls back to the one before it),
 * or null when there is none. A checkpoint of another dalab version is a CheckpointError.
 */
export function readLatestCheckpoint(dir: string, version: string): LoadedCheckpoint | null {
  const problems: string[] = [];
  for (const file of checkpointFiles(dir)) {
    let loaded: LoadedCheckpoint;
    try {
      loaded = decodeCheckpoint(fs.readFileSync(file), file);
    } catch (error) {
      problems.push(`${path.basename(file)}: ${(error as Error).message}`);
      continue;
    }
    if (loaded.record.dalab !== version) throw new CheckpointError(`the checkpoint ${file} was written by dalab ${loaded.record.dalab}; this is dalab ${version} (resume it with that version, or start a new run)`);
    return loaded;
  }
  if (problems.length > 0) throw new CheckpointError(`no readable checkpoint in ${dir} (${problems.join('; ')})`);
  return null;
}
