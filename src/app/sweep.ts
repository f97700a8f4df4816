/**
 * `dalab sweep`: every combination of the file's `sweep:` axes, one after another in this process,
 * under one parent run (each combination a child run, tagged mlflow.parentRunId). A failing
 * combination does not stop the others; it is listed in the summary.
 * (Worker processes, resuming and Slurm arrays come later: see the issue tracker.)
 */
import { readExperimentFile, parseSetArgument, setDotted, validateExperiment, flattenConfig } from '../config/load.js';
import { expandSweep, type SweepPoint } from '../config/sweep.js';
import type { RawConfig } from '../config/load.js';
import type { Tracker } from '../tracking/tracker.js';
import type { ExperimentConfig } from '../config/schema.js';
import { experimentName, trackingUri } from '../tracking/resolve.js';
import type { ProgressReporter } from './progress.js';
import { ExperimentRunner, TrainingFailure, type RunSummary } from './run-experiment.js';
import type { RunRecord } from '../report/summary.js';

export interface SweepRun {
  runId: string;
  status: 'FINISHED' | 'FAILED';
  overrides: Record<string, unknown>;
  metrics: Record<string, number>;
  error?: string;
}

export interface SweepSummary {
  parentRunId: string;
  experiment: string;
  runs: SweepRun[];
  failed: SweepRun[];
  records: RunRecord[];
}

/** The non-seed settings that vary, as a stable key (groups runs for the summary). */
function groupKey(overrides: Record<string, unknown>): string {
  return Object.entries(overrides)
    .filter(([k]) => k !== 'train.seed' && k !== 'adapter' && k !== 'adapter.name')
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(';');
}

export interface PreparedSweep {
  file: string;
  raw: RawConfig;
  points: (SweepPoint & { config: ExperimentConfig })[];
  tracker: Tracker;
}

/**
 * Reads the file, applies --set, and validates it (its sweep: block included) and every
 * combination: a bad one exits 2 before any backend loads or any run starts.
 */
export function prepareSweep(runner: ExperimentRunner, file: string, sets: readonly string[]): PreparedSweep {
  let raw = readExperimentFile(file);
  for (const arg of sets) {
    const { key, value } = parseSetArgument(arg);
    raw = setDotted(raw, key, value);
  }
  validateExperiment(raw, file);
  const points = expandSweep(raw).map((p) => ({ ...p, config: validateExperiment(p.raw, file) }));
  const prepared = points.map((p) => runner.prepare(p.config, file));
  return { file, raw, points, tracker: prepared[0]!.tracker };
}

export async function runSweep(runner: ExperimentRunner, sweep: PreparedSweep, backend: string, progress: ProgressReporter): Promise<SweepSummary> {
  const { file, raw, points, tracker } = sweep;
  const first: ExperimentConfig = points[0]!.config;
  const experiment = experimentName(first);
  const parent = await tracker.startRun({
    experiment,
    runName: `${first.name}-sweep`,
    tags: { 'dalab.sweep': 'parent', 'dalab.sweep_size': String(points.length), 'mlflow.source.name': file },
  });
  parent.logParams({ ...flattenConfig({ sweep: raw['sweep'] ?? {} }), 'tracking.uri': trackingUri(first) });

  const runs: SweepRun[] = [];
  const records: RunRecord[] = [];
  for (const [i, point] of points.entries()) {
    progress.status(`sweep ${i + 1}/${points.length}: ${JSON.stringify(point.overrides)}`);
    let summary: RunSummary;
    try {
      summary = await runner.run(point.config, { file, backend, progress, parentRunId: parent.runId });
    } catch (error) {
      if (!(error instanceof TrainingFailure)) throw error;
      summary = error.summary;
    }
    const run: SweepRun = { runId: summary.runId, status: summary.status, overrides: point.overrides, metrics: summary.metrics };
    if (summary.error != null) run.error = summary.error;
    runs.push(run);
    if (summary.status === 'FINISHED') {
      records.push({ adapter: point.config.adapter.name, seed: point.config.train.seed, group: groupKey(point.overrides), metrics: summary.metrics });
    }
  }
  const failed = runs.filter((r) => r.status === 'FAILED');
  await parent.end(failed.length === runs.length ? 'FAILED' : 'FINISHED');
  return { parentRunId: parent.runId, experiment, runs, failed, records };
}
