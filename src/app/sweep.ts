/**
 * `dalab sweep`: every combination of the file's `sweep:` axes under one parent run (each
 * combination a child run, tagged mlflow.parentRunId).
 *
 * - Resumable: the parent is found again by the hash of the resolved file (`dalab.sweep_hash`);
 *   a combination whose config hash (`dalab.config_hash`) already has a FINISHED child is
 *   skipped; a child left RUNNING by a killed sweep, or KILLED by a signal, is continued from its
 *   last resume checkpoint as the same run (`dalab run --resume`; no metric step twice).
 * - Workers: with --workers N > 1 each combination runs in its own process
 *   (`dalab sweep FILE --index i --parent ID`), N at a time; a worker dies with its sweep (IPC
 *   disconnect), so a killed sweep leaves no orphan training. Each worker's log is kept under
 *   .dalab/sweeps/<parent>/<i>.log. --gpus 0,1 gives worker k the GPU gpus[k] (CUDA_VISIBLE_DEVICES).
 * - --index i --parent ID runs one combination (what a worker or a Slurm array task runs); the
 *   task that completes the set marks the parent FINISHED.
 * - --emit slurm writes an array job script whose task i runs --index i.
 * A failing combination does not stop the others; it is listed in the summary.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import { benchmarkName } from '../config/names.js';
import { readExperimentFile, parseSetArgument, setDotted, validateExperiment, flattenConfig, configHash } from '../config/load.js';
import { expandSweep, type SweepPoint } from '../config/sweep.js';
import type { RawConfig } from '../config/load.js';
import type { Tracker } from '../tracking/tracker.js';
import type { ExperimentConfig } from '../config/schema.js';
import { experimentName, trackingUri } from '../tracking/resolve.js';
import type { ProgressReporter } from './progress.js';
import { ExperimentRunner, TrainingFailure, redactUri, type PreparedRun, type ResumeTarget, type RunSummary } from './run-experiment.js';
import type { StopSignal } from './stop.js';
import type { ValueRow } from '../report/aggregate.js';
import { roleOf } from '../report/roles.js';
import { formatSweepTable } from '../report/sweep-table.js';
import { UserError, messages } from '../messages.js';

export interface SweepRun {
  index: number;
  runId: string;
  status: 'FINISHED' | 'FAILED' | 'KILLED';
  overrides: Record<string, unknown>;
  metrics: Record<string, number>;
  error?: string;
}

export interface SweepSummary {
  parentRunId: string;
  experiment: string;
  /** Combinations in the sweep. */
  size: number;
  /** Combinations run by this invocation. */
  runs: SweepRun[];
  failed: SweepRun[];
  /** Indices of combinations already finished by an earlier invocation (skipped). */
  skipped: number[];
  /** One row per finished run of this invocation (target_test_acc), for the summary table. */
  records: ValueRow[];
}

/** The non-seed settings that vary, as a stable key (groups runs for the summary); `without` keys left out. */
function groupKey(overrides: Record<string, unknown>, without: readonly string[] = []): string {
  return Object.entries(overrides)
    .filter(([k]) => k !== 'train.seed' && k !== 'adapter' && k !== 'adapter.name' && !without.includes(k))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(';');
}

/** The table `dalab sweep` prints: per strategy and setting, mean ± std over seeds and the paired difference to the lower bound. */
export function sweepTable(summary: SweepSummary): string {
  return formatSweepTable(summary.records);
}

export interface PreparedSweep {
  file: string;
  sets: readonly string[];
  raw: RawConfig;
  points: (SweepPoint & { config: ExperimentConfig; hash: string; prepared: PreparedRun })[];
  tracker: Tracker;
  experiment: string;
  /** Identifies this sweep (file contents after --set) across invocations. */
  sweepHash: string;
}

/**
 * Reads the file, applies --set, and validates it (its sweep: block included) and every
 * combination: a bad one exits 2 before any backend loads or any run starts.
 */
export async function prepareSweep(runner: ExperimentRunner, file: string, sets: readonly string[]): Promise<PreparedSweep> {
  let raw = readExperimentFile(file);
  for (const arg of sets) {
    const { key, value } = parseSetArgument(arg);
    raw = setDotted(raw, key, value);
  }
  const base = validateExperiment(raw, file);
  const points = [];
  for (const p of expandSweep(raw)) {
    const config = validateExperiment(p.raw, file);
    points.push({ ...p, config, hash: configHash(config), prepared: await runner.prepare(config, file) });
  }
  // The reference: block changes no run: adding published numbers keeps the sweep's identity.
  const { tracking: _tracking, reference: _reference, ...identity } = raw;
  const sweepHash = createHash('sha256').update(JSON.stringify([identity, points.map((p) => p.hash)])).digest('hex').slice(0, 16);
  return { file, sets, raw, points, tracker: points[0]!.prepared.tracker, experiment: experimentName(base), sweepHash };
}

/** The sweep's parent run: found again (and reopened) when an earlier invocation created it. */
export async function openParent(sweep: PreparedSweep): Promise<{ parentRunId: string; resumed: boolean }> {
  const { tracker, experiment, points, raw, file } = sweep;
  const existing = await tracker.findRuns(experiment, { 'dalab.sweep': 'parent', 'dalab.sweep_hash': sweep.sweepHash });
  if (existing.length > 0) {
    const parent = existing[0]!;
    if (parent.status !== 'RUNNING') await tracker.setRunStatus(parent.runId, 'RUNNING');
    return { parentRunId: parent.runId, resumed: true };
  }
  const first = points[0]!.config;
  const run = await tracker.startRun({
    experiment,
    runName: `${first.name}-sweep`,
    tags: { 'dalab.sweep': 'parent', 'dalab.sweep_size': String(points.length), 'dalab.sweep_hash': sweep.sweepHash, 'mlflow.source.name': file },
  });
  run.logParams({ ...flattenConfig({ sweep: raw['sweep'] ?? {} }), 'tracking.uri': redactUri(trackingUri(first)) });
  await run.flush();
  return { parentRunId: run.runId, resumed: false };
}

/** Config hashes of the parent's FINISHED children. */
async function finishedHashes(sweep: PreparedSweep, parentRunId: string): Promise<Set<string>> {
  const children = await sweep.tracker.findRuns(sweep.experiment, { 'mlflow.parentRunId': parentRunId });
  const done = new Set<string>();
  for (const c of children) if (c.status === 'FINISHED' && c.tags['dalab.config_hash'] != null) done.add(c.tags['dalab.config_hash']);
  return done;
}

async function closeParentIfComplete(sweep: PreparedSweep, parentRunId: string): Promise<boolean> {
  const done = await finishedHashes(sweep, parentRunId);
  if (!sweep.points.every((p) => done.has(p.hash))) return false;
  await sweep.tracker.setRunStatus(parentRunId, 'FINISHED');
  return true;
}

function toSweepRun(index: number, point: SweepPoint, summary: RunSummary): SweepRun {
  const run: SweepRun = { index, runId: summary.runId, status: summary.status, overrides: point.overrides, metrics: summary.metrics };
  if (summary.error != null) run.error = summary.error;
  return run;
}

/**
 * The unfinished child of this combination to continue: the most recent RUNNING (its process died)
 * or KILLED (stopped by a signal) one, from its last checkpoint; null when there is none, or when
 * it cannot be resumed (a checkpoint of another dalab version): the combination starts over.
 */
async function resumableChild(runner: ExperimentRunner, sweep: PreparedSweep, point: PreparedSweep['points'][number], parentRunId: string, progress: ProgressReporter): Promise<ResumeTarget | null> {
  const children = (await sweep.tracker.findRuns(sweep.experiment, { 'mlflow.parentRunId': parentRunId, 'dalab.config_hash': point.hash }))
    .filter((c) => c.status === 'RUNNING' || c.status === 'KILLED')
    .sort((a, b) => (b.startTime ?? 0) - (a.startTime ?? 0));
  if (children.length === 0) return null;
  try {
    const found = await runner.resumeTarget(point.prepared, children[0]!.runId);
    return 'target' in found ? found.target : null;
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    progress.status(`sweep: ${error.message}; the combination starts over`);
    await sweep.tracker.setRunStatus(children[0]!.runId, 'KILLED');
    return null;
  }
}

async function runInProcess(runner: ExperimentRunner, sweep: PreparedSweep, index: number, parentRunId: string, backend: string, progress: ProgressReporter, stop?: StopSignal): Promise<RunSummary> {
  const point = sweep.points[index]!;
  try {
    const resume = await resumableChild(runner, sweep, point, parentRunId, progress);
    return await runner.run(point.prepared, { file: sweep.file, backend, progress, parentRunId, ...(resume != null ? { resume } : {}), ...(stop != null ? { stop } : {}) });
  } catch (error) {
    if (error instanceof TrainingFailure) return error.summary;
    // Anything else (e.g. too few images for target.labels) fails this combination only.
    progress.stop();
    return {
      runId: '',
      experiment: sweep.experiment,
      adapter: point.config.adapter.name,
      status: 'FAILED',
      error: error instanceof Error ? error.message : String(error),
      backend,
      metrics: {},
      outDir: '',
    };
  }
}

/** One combination (a worker's or a Slurm task's job). Returns null when it had already finished. */
export async function runSweepIndex(runner: ExperimentRunner, sweep: PreparedSweep, index: number, parentRunId: string, backend: string, progress: ProgressReporter, stop?: StopSignal): Promise<RunSummary | null> {
  if (!Number.isInteger(index) || index < 0 || index >= sweep.points.length) throw new UserError(messages.badSweepIndex(String(index), sweep.points.length));
  const point = sweep.points[index]!;
  const done = await finishedHashes(sweep, parentRunId);
  if (done.has(point.hash)) return null;
  const summary = await runInProcess(runner, sweep, index, parentRunId, backend, progress, stop);
  await closeParentIfComplete(sweep, parentRunId);
  return summary;
}

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/dalab.js');

export interface SweepOptions {
  workers: number;
  gpus?: string[];
  /** The --backend the user gave (workers get the same). */
  backendFlag?: string;
  /** SIGTERM/SIGINT: forwarded to the workers (each checkpoints and ends KILLED); no new combination starts. */
  stop?: StopSignal;
}

/** Runs one combination in a worker process; resolves with its summary (a FAILED one if the process died). */
function runInWorker(sweep: PreparedSweep, index: number, parentRunId: string, options: SweepOptions, slot: number, logDir: string): Promise<RunSummary> {
  const args = [...(options.backendFlag != null ? ['--backend', options.backendFlag] : []), 'sweep', sweep.file, ...sweep.sets.flatMap((s) => ['--set', s]), '--index', String(index), '--parent', parentRunId, '--json', '--worker'];
  // The workers share the cores: each computes with its share (src/backend/threads.ts).
  const env: NodeJS.ProcessEnv = { ...process.env, DALAB_WORKERS: String(options.workers) };
  if (options.gpus != null && options.gpus.length > 0) env['CUDA_VISIBLE_DEVICES'] = options.gpus[slot % options.gpus.length]!;
  const log = fs.openSync(path.join(logDir, `${index}.log`), 'w');
  return new Promise((resolve) => {
    const child = fork(BIN, args, { stdio: ['ignore', 'pipe', log, 'ipc'], env });
    options.stop?.onRequest((signal) => {
      if (child.exitCode == null && child.signalCode == null) child.kill(signal);
    });
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      fs.writeSync(log, chunk);
    });
    child.on('exit', (code, signal) => {
      fs.closeSync(log);
      // The worker's own one-line reason, when it printed one.
      const reason = fs
        .readFileSync(path.join(logDir, `${index}.log`), 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('dalab: ') && !l.includes('DALAB_DEBUG'))
        .pop()
        ?.slice('dalab: '.length);
      const last = stdout.trim().split('\n').pop() ?? '';
      try {
        const parsed = JSON.parse(last) as RunSummary | { skipped: true };
        if ('runId' in parsed) return resolve(parsed);
      } catch {
        // no summary: the worker died
      }
      resolve({
        runId: '',
        experiment: sweep.experiment,
        adapter: sweep.points[index]!.config.adapter.name,
        status: 'FAILED',
        error: `${reason != null ? `${reason}; ` : ''}worker exited with ${signal ?? `code ${code}`} (log: ${path.join(logDir, `${index}.log`)})`,
        backend: '',
        metrics: {},
        outDir: '',
      });
    });
  });
}

export async function runSweep(runner: ExperimentRunner, sweep: PreparedSweep, backend: string, progress: ProgressReporter, options: SweepOptions = { workers: 1 }): Promise<SweepSummary> {
  const { points } = sweep;
  const { parentRunId, resumed } = await openParent(sweep);
  const done = await finishedHashes(sweep, parentRunId);
  const todo = points.map((_, i) => i).filter((i) => !done.has(points[i]!.hash));
  const skipped = points.map((_, i) => i).filter((i) => done.has(points[i]!.hash));
  if (resumed) progress.status(`sweep ${parentRunId}: resuming, ${skipped.length} of ${points.length} combinations already finished`);

  const runs: SweepRun[] = [];
  const workers = Math.max(1, Math.min(options.workers, todo.length));
  if (workers <= 1) {
    for (const [k, i] of todo.entries()) {
      if (options.stop?.signal != null) break;
      progress.status(`sweep ${k + 1}/${todo.length} (combination ${i}): ${JSON.stringify(points[i]!.overrides)}`);
      runs.push(toSweepRun(i, points[i]!, await runInProcess(runner, sweep, i, parentRunId, backend, progress, options.stop)));
    }
  } else {
    const logDir = path.resolve('.dalab', 'sweeps', parentRunId);
    fs.mkdirSync(logDir, { recursive: true });
    progress.status(`sweep ${parentRunId}: ${todo.length} combinations on ${workers} workers (${backend}); logs in ${logDir}`);
    const bar = process.stderr.isTTY
      ? new cliProgress.SingleBar({ stream: process.stderr, format: 'sweep |{bar}| {value}/{total} runs | {failed} failed | elapsed {duration_formatted} | eta {eta_formatted}', hideCursor: true }, cliProgress.Presets.shades_classic)
      : null;
    bar?.start(todo.length, 0, { failed: 0 });
    let next = 0;
    const worker = async (slot: number) => {
      while (next < todo.length && options.stop?.signal == null) {
        const i = todo[next++]!;
        const summary = await runInWorker(sweep, i, parentRunId, { ...options, workers }, slot, logDir);
        const run = toSweepRun(i, points[i]!, summary);
        runs.push(run);
        const failed = runs.filter((r) => r.status === 'FAILED').length;
        if (bar != null) bar.update(runs.length, { failed });
        else {
          const acc = run.metrics['target_test_acc'];
          progress.status(`sweep ${runs.length}/${todo.length}: combination ${i} ${JSON.stringify(run.overrides)} ${run.status}${acc != null ? ` target_test_acc ${(100 * acc).toFixed(2)}%` : ''}${run.error != null ? ` (${run.error})` : ''}`);
        }
      }
    };
    await Promise.all(Array.from({ length: workers }, (_, slot) => worker(slot)));
    bar?.stop();
    runs.sort((a, b) => a.index - b.index);
  }
  const failed = runs.filter((r) => r.status === 'FAILED');
  const complete = await closeParentIfComplete(sweep, parentRunId);
  if (!complete) await sweep.tracker.setRunStatus(parentRunId, options.stop?.signal != null ? 'KILLED' : failed.length > 0 && failed.length === runs.length ? 'FAILED' : 'FINISHED');
  const records: ValueRow[] = runs
    .filter((r) => r.status === 'FINISHED' && Number.isFinite(r.metrics['target_test_acc']))
    .map((r) => {
      const { config } = points[r.index]!;
      const factory = runner.adapterFactories().find((f) => f.name === config.adapter.name);
      return {
        benchmark: benchmarkName(config),
        setting: groupKey(r.overrides),
        settingSansLabels: groupKey(r.overrides, ['target.labels']),
        method: config.adapter.name,
        adapter: config.adapter.name,
        role: roleOf({ adapter: config.adapter.name, family: factory?.family, targetLabels: factory?.needs.targetLabels }),
        seed: config.train.seed,
        value: r.metrics['target_test_acc']!,
      };
    });
  return { parentRunId, experiment: sweep.experiment, size: points.length, runs, failed, skipped, records };
}

export interface SlurmOptions {
  partition?: string;
  gpusPerTask?: number;
  cpusPerTask?: number;
  time?: string;
  /** Where the script goes (default: ./<file stem>.slurm.sh). */
  out?: string;
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Writes a Slurm array job script: task i runs `dalab sweep FILE --index i --parent PARENT`. */
export async function emitSlurm(sweep: PreparedSweep, options: SlurmOptions, backendFlag?: string): Promise<{ script: string; parentRunId: string; tasks: number }> {
  const { parentRunId } = await openParent(sweep);
  const n = sweep.points.length;
  const stem = path.basename(sweep.file).replace(/\.ya?ml$/, '');
  const script = path.resolve(options.out ?? `${stem}.slurm.sh`);
  const logs = path.resolve('.dalab', 'slurm');
  fs.mkdirSync(logs, { recursive: true });
  const command = [
    shellQuote(process.execPath),
    shellQuote(BIN),
    ...(backendFlag != null ? ['--backend', shellQuote(backendFlag)] : []),
    'sweep',
    shellQuote(path.resolve(sweep.file)),
    ...sweep.sets.flatMap((s) => ['--set', shellQuote(s)]),
    '--index',
    '"$SLURM_ARRAY_TASK_ID"',
    '--parent',
    shellQuote(parentRunId),
  ].join(' ');
  const lines = [
    '#!/bin/bash',
    `#SBATCH --job-name=dalab-${stem}`,
    `#SBATCH --array=0-${n - 1}`,
    `#SBATCH --output=${logs}/%A_%a.log`,
    ...(options.partition != null ? [`#SBATCH --partition=${options.partition}`] : []),
    ...(options.gpusPerTask != null ? [`#SBATCH --gpus-per-task=${options.gpusPerTask}`] : []),
    ...(options.cpusPerTask != null ? [`#SBATCH --cpus-per-task=${options.cpusPerTask}`] : []),
    ...(options.time != null ? [`#SBATCH --time=${options.time}`] : []),
    `# dalab sweep ${path.basename(sweep.file)}: ${n} combinations, parent run ${parentRunId} (experiment '${sweep.experiment}', tracking ${sweep.tracker.uri})`,
    '# Task i runs combination i; a combination already finished under the parent is skipped, so the array can be resubmitted.',
    'set -euo pipefail',
    `cd ${shellQuote(process.cwd())}`,
    ...(process.env['MLFLOW_TRACKING_URI'] != null ? [`export MLFLOW_TRACKING_URI=${shellQuote(process.env['MLFLOW_TRACKING_URI'])}`] : []),
    `exec ${command}`,
    '',
  ];
  fs.writeFileSync(script, lines.join('\n'), { mode: 0o755 });
  return { script, parentRunId, tasks: n };
}
