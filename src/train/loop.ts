/**
 * The one training loop. It knows no strategy by name: it draws the batches the strategy declares
 * it needs, asks it for named loss terms, weights and sums them, minimises, and logs every term.
 *
 * 1. build the batch streams (seeded) the strategy needs and the optimiser (step.ts);
 * 2. each step: learning rate from the schedule, batches -> tensors, loss terms, one optimiser step;
 *    the per-step losses stay on the device and are read every `logEvery` steps (no per-step sync);
 * 3. every `evalEvery` steps and at the end: evaluate, log, update model selection;
 * 4. return the final and selected metrics; the caller checkpoints and tracks.
 */
import * as tf from '@tensorflow/tfjs';
import type { DomainSplits, TargetSplits } from '../data/splits.js';
import type { ExperimentConfig } from '../config/schema.js';
import type { Adapter } from './adapter.js';
import { evaluate, predictProbabilities, type Evaluation } from './evaluate.js';
import { EMPTY_SELECTION, updateSelection, type SelectionState, type ValidationInputs, type Validator } from './validators/validator.js';
import type { ImageSet } from '../data/types.js';
import { subset } from '../data/types.js';
import { sequentialBatches } from '../data/batches.js';
import seedrandom from 'seedrandom';
import { Stepper, type GradientBlocks } from './step.js';
import { snapshot, restore } from '../models/checkpoint.js';
import { encodeCheckpoint, layerWeights, NonFiniteWeightError, writeCheckpointFile, type CheckpointRecord, type LoadedCheckpoint } from './resume.js';

/**
 * A non-finite loss term or gradient norm (read every `logEvery` steps with the losses): the run
 * stops there. `step` is the step whose value was read first non-finite.
 */
export class DivergenceError extends Error {
  constructor(
    readonly step: number,
    readonly term: string,
    readonly value: number,
  ) {
    super(`diverged at step ${step}: ${term} is ${value} (lower train.lr, or check the inputs)`);
  }
}

/** The loop wrote a checkpoint and stopped because it was asked to (SIGTERM, SIGINT). */
export class StopRequested extends Error {
  constructor(
    readonly step: number,
    readonly file: string,
  ) {
    super(`stopped at step ${step}; checkpoint ${file}`);
  }
}

/** Resume checkpoints (src/train/resume.ts): where, how often, what to continue from. */
export interface LoopCheckpoints {
  /** The run's state folder. */
  dir: string;
  /** Steps between checkpoints; undefined: at every evaluation and at each phase's end; 0: only when stopped. */
  every?: number;
  /** The dalab version, recorded in each checkpoint. */
  version: string;
  /** The caller's own record (its learning curve, diagnostics at the start), saved with each checkpoint. */
  extra(): unknown;
  /** A checkpoint to continue from (read with readLatestCheckpoint). */
  from?: LoadedCheckpoint | null;
  /** Polled after every step: true makes the loop write a checkpoint and throw StopRequested. */
  stopRequested?(): boolean;
  /** Awaited before each checkpoint is written (the tracker writes what it holds: nothing logged before it is lost). */
  beforeCheckpoint?(step: number): Promise<void>;
}

export interface LoopObserver {
  /** Per-step loss terms, read in batches of `logEvery` steps. */
  onLosses?(step: number, terms: Record<string, number>): void;
  /**
   * Per-block gradient norms at the weights after `step` updates (0: at initialisation), read with
   * the losses: the gradient of step 1, 1 + logEvery, 1 + 2 logEvery, ... of each phase.
   */
  onGradNorms?(step: number, norms: Record<string, number>): void;
  onEvaluation?(step: number, metrics: Record<string, number>): void;
  /** Watched per-step scalars a strategy reports (e.g. domain_acc), read with the losses. */
  onMonitors?(step: number, values: Record<string, number>): void;
  onStep?(step: number, info: { loss?: number; targetAcc?: number; sourceAcc?: number }): void;
}

export interface LoopResult {
  /** Metrics of the last evaluation. */
  last: Record<string, number>;
  /** Metrics of the checkpoint chosen by `select.by`. */
  selected: Record<string, number>;
  selectedStep: number;
  /** Steps over all phases (pre-training included). */
  totalSteps: number;
  /** Target test accuracy of the checkpoint chosen on labelled target validation (reference only). */
  oracleTargetTestAcc: number;
  /**
   * Source batches drawn, where batches are drawn (the stepper), in the phases after the source
   * phase (the last phase named `pretrain`; without one, in every phase). 0 for a source-free strategy.
   */
  sourceBatchesAfterSourcePhase: number;
  targetTestEvaluation: Evaluation;
}

/** `count` indices of a set of `total`, drawn once with a fixed seed (the same images every run). */
export function validatorPool(total: number, count: number): number[] {
  const order = Array.from({ length: total }, (_, i) => i);
  const rng = seedrandom('dalab/validator-pool');
  const n = Math.min(count, total);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(rng() * (total - i));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order.slice(0, n).sort((a, b) => a - b);
}

/** Encoder features of both samples and each source image's cross-entropy (what `dev` reads). */
async function validationFeatures(adapter: Adapter, source: ImageSet, target: ImageSet, numClasses: number): Promise<NonNullable<ValidationInputs['features']>> {
  const features = async (set: ImageSet) => {
    const parts: Float32Array[] = [];
    let d = 0;
    for (const batch of sequentialBatches(set, 256)) {
      const f = adapter.features(batch.x);
      d = f.shape[1];
      parts.push((await f.data()) as Float32Array);
      tf.dispose([f, batch.x]);
    }
    const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const p of parts) {
      all.set(p, offset);
      offset += p.length;
    }
    return { all, d };
  };
  const s = await features(source);
  const t = await features(target);
  // An empty sample has no width of its own: both share the encoder's.
  const d = Math.max(s.d, t.d);
  const probs = await predictProbabilities((x) => adapter.predict(x), source, numClasses);
  const sourceLoss = Float32Array.from(source.labels, (y, i) => -Math.log(Math.max(probs[i * numClasses + y]!, 1e-12)));
  return { source: s.all, sourceLoss, target: t.all, d };
}

export function defaultEvalEvery(steps: number): number {
  return Math.max(1, Math.round(steps / 5));
}

export interface LoopOptions {
  observer?: LoopObserver;
  /** Every validator (src/container.ts binds them): each logged one is scored at every evaluation, `select.by` selects. */
  validators: readonly Validator[];
  /** The backbone's blocks (`gradientBlocks`): their gradient norms are logged every logEvery steps. */
  gradientBlocks?: GradientBlocks;
  checkpoints?: LoopCheckpoints;
}

/**
 * A test hook (the resume tests): the process kills itself with SIGKILL right after this step;
 * `N:STEP` waits for the process's N-th training loop (a sweep worker's N-th combination).
 */
const KILL_HOOK = /^(?:(\d+):)?(\d+)$/.exec(process.env['DALAB_TEST_KILL_AT_STEP'] ?? '');
const KILL_AT_STEP = KILL_HOOK == null ? NaN : Number(KILL_HOOK[2]);
const KILL_IN_LOOP = KILL_HOOK?.[1] == null ? null : Number(KILL_HOOK[1]);
let loopsStarted = 0;
/** A test hook (the divergence test): a NaN pixel in the batches of this step. */
const NAN_AT_STEP = Number(process.env['DALAB_TEST_NAN_AT_STEP'] ?? NaN);

export async function runLoop(config: ExperimentConfig, adapter: Adapter, source: DomainSplits, target: TargetSplits, options: LoopOptions): Promise<LoopResult> {
  loopsStarted += 1;
  const killAtStep = KILL_IN_LOOP == null || KILL_IN_LOOP === loopsStarted ? KILL_AT_STEP : NaN;
  const observer = options.observer ?? {};
  const selector = options.validators.find((v) => v.name === config.select.by);
  if (selector == null) throw new Error(`select.by: no validator '${config.select.by}' is bound`);
  const { logEvery } = config.train;
  const numClasses = Math.max(source.numClasses, target.numClasses);
  const phases = adapter.phases(config.train.steps);
  const totalSteps = phases.reduce((sum, p) => sum + p.steps, 0);
  const sourcePhase = phases.map((p) => p.name).lastIndexOf('pretrain');
  let sourceBatchesAfter = 0;
  const sourceBatchesNow = (phaseIndex: number, stepper: Stepper) => sourceBatchesAfter + (phaseIndex > sourcePhase ? stepper.sourceBatches : 0);
  const sets = { source: source.train, targetPool: target.train, targetLabelled: target.labelled };
  const allWeights = () => Object.values(adapter.checkpointModels()).flatMap((m) => m.weights.map((w) => w.read() as tf.Variable));

  // Per-step scalars stay on the device until read in one batch every `logEvery` steps.
  const pending: { step: number; scalars: Record<string, tf.Scalar> }[] = [];
  let lastLoss: number | undefined;

  const drain = async () => {
    if (pending.length === 0) return;
    const flat: tf.Scalar[] = [];
    for (const entry of pending) flat.push(...Object.values(entry.scalars));
    const stacked = tf.stack(flat);
    const values = await stacked.data();
    stacked.dispose();
    let i = 0;
    for (const entry of pending) {
      const read: Record<string, number> = {};
      for (const key of Object.keys(entry.scalars)) read[key] = values[i++]!;
      const losses: Record<string, number> = {};
      const monitors: Record<string, number> = {};
      const norms: Record<string, number> = {};
      for (const [key, value] of Object.entries(read)) {
        if (key.startsWith('monitor:')) monitors[key.slice('monitor:'.length)] = value;
        else if (key.startsWith('grad:')) norms[key.slice('grad:'.length)] = value;
        else losses[key] = value;
      }
      if (Object.keys(norms).length > 0) observer.onGradNorms?.(entry.step - 1, norms);
      // The loss terms first (total last), then the gradient norms: the first non-finite stops the run.
      const order = [...Object.keys(losses).filter((k) => k !== 'total'), 'total'].filter((k) => k in losses);
      for (const key of order) if (!Number.isFinite(losses[key]!)) throw new DivergenceError(entry.step, `loss term '${key}'`, losses[key]!);
      for (const [key, value] of Object.entries(norms)) if (!Number.isFinite(value)) throw new DivergenceError(entry.step - 1, `the gradient norm of block '${key}'`, value);
      lastLoss = losses['total'];
      observer.onLosses?.(entry.step, losses);
      if (Object.keys(monitors).length > 0) observer.onMonitors?.(entry.step, monitors);
      tf.dispose(Object.values(entry.scalars));
    }
    pending.length = 0;
  };

  // Model selection: a plain value; the selected checkpoint's weights are kept beside it.
  let selection: SelectionState = EMPTY_SELECTION;
  let selectedWeights: tf.Tensor[] | null = null;
  let last: Record<string, number> = {};
  let lastTargetEval: Evaluation | null = null;

  // Unlabelled target images the validators score (a fixed seeded sample of the training pool).
  const pool = validatorPool(target.train.count, 1000);
  const unlabelled = subset(target.train, pool);
  // Validators that read features (dev): a fixed sample of source validation images too.
  const wantsFeatures = options.validators.some((v) => v.needsFeatures === true && (v.logged || v === selector));
  const sourceSample = subset(source.val, validatorPool(source.val.count, 1000));

  const evaluateAll = async (step: number) => {
    const predict = (x: tf.Tensor4D) => adapter.predict(x);
    const targetPool = { probs: await predictProbabilities(predict, unlabelled, numClasses), n: unlabelled.count, k: numClasses };
    const sourceVal = await evaluate(predict, source.val, numClasses);
    const sourceTest = await evaluate(predict, source.test, numClasses);
    const targetVal = await evaluate(predict, target.val, numClasses);
    const targetTest = await evaluate(predict, target.test, numClasses);
    lastTargetEval = targetTest;
    const metrics: Record<string, number> = {
      source_val_acc: sourceVal.accuracy,
      source_test_acc: sourceTest.accuracy,
      target_val_acc: targetVal.accuracy,
      target_test_acc: targetTest.accuracy,
      target_test_ece: targetTest.ece,
    };
    const inputs: ValidationInputs = { step, targetPool, sourceVal, targetVal };
    if (wantsFeatures) inputs.features = await validationFeatures(adapter, sourceSample, unlabelled, numClasses);
    for (const v of options.validators) if (v.logged) metrics[`select/${v.name}`] = v.score(inputs);
    targetTest.perClass.forEach((acc, k) => (metrics[`target_test_acc/class_${k}`] = acc));
    observer.onEvaluation?.(step, metrics);
    last = metrics;

    const update = updateSelection(selection, { step, score: selector.score(inputs), metrics, targetValAcc: targetVal.accuracy, targetTestAcc: targetTest.accuracy });
    selection = update.state;
    if (update.improved) {
      if (selectedWeights != null) tf.dispose(selectedWeights);
      // The last evaluation needs no copy: those weights are the final ones anyway.
      const isFinal = step === totalSteps;
      selectedWeights = isFinal || selector.name === 'last' ? null : snapshot(allWeights());
    }
    observer.onStep?.(step, { loss: lastLoss, targetAcc: targetTest.accuracy, sourceAcc: sourceTest.accuracy });
  };

  // Resume checkpoints: every model the strategy trains or keeps, the stepper, the selection.
  const checkpoints = options.checkpoints;
  const stateModels = () => ({ ...adapter.checkpointModels(), ...(adapter.stateModels?.() ?? {}) });
  const writeCheckpoint = async (phaseIndex: number, local: number, step: number, stepper: Stepper): Promise<string> => {
    await drain();
    const tensors: { name: string; tensor: tf.Tensor }[] = [];
    const models = stateModels();
    for (const [name, model] of Object.entries(models)) layerWeights(model).forEach((v, i) => tensors.push({ name: `w/${name}/${i}`, tensor: v }));
    const stepperState = stepper.saveState();
    stepperState.optimizers.forEach((o, g) => {
      for (const [key, t] of Object.entries(o.tensors)) tensors.push({ name: `opt/${g}/${key}`, tensor: t });
    });
    selectedWeights?.forEach((t, i) => tensors.push({ name: `selected/${i}`, tensor: t }));
    const record: CheckpointRecord = {
      format: 'dalab-resume',
      dalab: checkpoints!.version,
      step,
      phase: phaseIndex,
      local,
      stepper: { streams: stepperState.streams, optimizers: stepperState.optimizers.map((o) => ({ json: o.json })) },
      selection,
      selectedWeights: selectedWeights != null,
      last,
      lastTargetEval,
      adapter: adapter.saveState?.() ?? null,
      models: Object.keys(models),
      extra: checkpoints!.extra(),
      sourceBatchesAfterSourcePhase: sourceBatchesNow(phaseIndex, stepper),
    };
    let bytes: Buffer;
    try {
      bytes = encodeCheckpoint(record, tensors);
    } catch (error) {
      // A weight went non-finite after the last loss read: the previous checkpoint stays the last good one.
      if (error instanceof NonFiniteWeightError) throw new DivergenceError(step, `weight '${error.weight}'`, error.value);
      throw error;
    }
    await checkpoints!.beforeCheckpoint?.(step);
    return writeCheckpointFile(checkpoints!.dir, step, bytes);
  };
  const restoreCheckpoint = (from: LoadedCheckpoint, stepper: Stepper) => {
    const { record, arrays } = from;
    const models = stateModels();
    const names = Object.keys(models);
    if (names.join() !== record.models.join()) throw new Error(`the checkpoint holds models ${record.models.join(', ')}; this run has ${names.join(', ')}`);
    tf.tidy(() => {
      for (const [name, model] of Object.entries(models)) {
        layerWeights(model).forEach((v, i) => {
          const saved = arrays[`w/${name}/${i}`];
          if (saved == null || saved.shape.join() !== v.shape.join()) throw new Error(`the checkpoint's weight ${name}/${i} does not fit this run's ${v.name} [${v.shape.join(', ')}]`);
          v.assign(tf.tensor(saved.data, v.shape));
        });
      }
    });
    if (record.adapter != null) adapter.loadState?.(record.adapter);
    stepper.loadState(record.stepper, arrays, 'opt/');
    selection = record.selection;
    sourceBatchesAfter = record.sourceBatchesAfterSourcePhase ?? 0;
    last = record.last;
    lastTargetEval = record.lastTargetEval;
    if (record.selectedWeights) {
      selectedWeights = allWeights().map((v, i) => {
        const saved = arrays[`selected/${i}`];
        if (saved == null) throw new Error(`the checkpoint lacks the selected weight ${i}`);
        return tf.tensor(saved.data, [...saved.shape]);
      });
    }
  };

  // 2. Phases and steps; the step count runs on across phases.
  const from = checkpoints?.from ?? null;
  let offset = 0;
  for (let phaseIndex = 0; phaseIndex < phases.length; phaseIndex++) {
    const phase = phases[phaseIndex]!;
    phase.begin?.();
    if (from != null && phaseIndex < from.record.phase) {
      // Done before the checkpoint: begun (heads swapped, teachers built) so the models match it.
      offset += phase.steps;
      continue;
    }
    const stepper = new Stepper({ ...config.train, steps: phase.steps }, phase, sets, numClasses);
    let first = 1;
    if (from != null && phaseIndex === from.record.phase) {
      restoreCheckpoint(from, stepper);
      first = from.record.local + 1;
    }
    const evalEvery = config.train.evalEvery ?? defaultEvalEvery(phase.steps);
    for (let local = first; local <= phase.steps; local++) {
      const step = offset + local;
      const wantNorms = options.gradientBlocks != null && (local - 1) % logEvery === 0;
      const { total, terms, monitors, gradNorms } = stepper.step(local, wantNorms ? options.gradientBlocks : undefined, step === NAN_AT_STEP);
      const scalars: Record<string, tf.Scalar> = { total, ...terms };
      for (const [k, v] of Object.entries(monitors)) scalars[`monitor:${k}`] = v;
      for (const [k, v] of Object.entries(gradNorms)) scalars[`grad:${k}`] = v;
      pending.push({ step, scalars });
      if (step === killAtStep) process.kill(process.pid, 'SIGKILL');
      if (step % logEvery === 0 || local === phase.steps) {
        await drain();
        // Native backends resolve reads as microtasks: without this the event loop (timers, the
        // tracker's periodic flush, a worker's watch on its sweep) would not run until training ends.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      observer.onStep?.(step, { loss: lastLoss });
      // 3. Evaluation.
      const evaluates = phase.evaluate && ((evalEvery > 0 && local % evalEvery === 0) || local === phase.steps);
      if (evaluates) await evaluateAll(step);
      // 4. Resume checkpoints; a stop request (SIGTERM, SIGINT) writes one and ends the loop.
      if (checkpoints != null) {
        const every = checkpoints.every;
        const due = every == null ? evaluates || (evalEvery > 0 && local % evalEvery === 0) || local === phase.steps : every > 0 && (local % every === 0 || local === phase.steps);
        if (checkpoints.stopRequested?.()) {
          const file = await writeCheckpoint(phaseIndex, local, step, stepper);
          stepper.dispose();
          throw new StopRequested(step, file);
        }
        if (due) await writeCheckpoint(phaseIndex, local, step, stepper);
      }
    }
    await drain();
    sourceBatchesAfter = sourceBatchesNow(phaseIndex, stepper);
    stepper.dispose();
    offset += phase.steps;
  }
  if (selection.best == null) await evaluateAll(totalSteps);

  const chosen = selection.best!;
  // The models end with the selected checkpoint's weights (what gets saved).
  if (selectedWeights != null) {
    restore(allWeights(), selectedWeights);
    tf.dispose(selectedWeights);
  }
  return {
    last,
    selected: chosen.metrics,
    selectedStep: chosen.step,
    totalSteps,
    oracleTargetTestAcc: selection.oracle?.targetTestAcc ?? NaN,
    sourceBatchesAfterSourcePhase: sourceBatchesAfter,
    targetTestEvaluation: lastTargetEval!,
  };
}
