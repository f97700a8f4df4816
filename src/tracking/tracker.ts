/** What the application needs from a tracker; MLflow's model (experiments, runs, params, metrics, tags, artifacts). */

export type RunStatus = 'RUNNING' | 'FINISHED' | 'FAILED' | 'KILLED';

export interface MetricPoint {
  key: string;
  value: number;
  step: number;
  timestamp: number;
}

export interface RunStart {
  experiment: string;
  runName: string;
  tags: Record<string, string>;
  parentRunId?: string;
}

export interface TrackedRun {
  readonly runId: string;
  readonly experimentId: string;
  /** A local folder whose contents are the run's artifacts. */
  readonly artifactDir: string;
  /**
   * A local folder for the run's resume checkpoints (src/train/resume.ts); the same folder when the
   * run is reopened on this machine. Not uploaded to a server.
   */
  readonly stateDir: string;
  logParams(params: Record<string, string>): void;
  setTags(tags: Record<string, string>): void;
  /** Buffered; written by `flush()` and at `end()`, never on the training hot path. */
  logMetric(key: string, value: number, step: number, timestamp?: number): void;
  flush(): Promise<void>;
  end(status: RunStatus): Promise<void>;
}

export interface RunInfo {
  runId: string;
  status: string;
  tags: Record<string, string>;
  /** Milliseconds since the epoch. */
  startTime?: number;
}

/** A run as the store holds it: its info, and the latest value and step of each metric. */
export interface RunRecord extends RunInfo {
  /** The value at the highest step of each metric (MLflow's latest metrics). */
  metrics: Record<string, { value: number; step: number }>;
}

export interface Tracker {
  readonly uri: string;
  /** Checks that the store answers (a server: one request); throws the store's error when not. */
  check?(): Promise<void>;
  startRun(start: RunStart): Promise<TrackedRun>;
  /** Active runs of an experiment whose tags have all the given values (sweeps resume with this). */
  findRuns(experiment: string, tags: Record<string, string>): Promise<RunInfo[]>;
  /** Sets a run's status (and end time unless RUNNING): a resumed sweep reopens its parent, closes killed children. */
  setRunStatus(runId: string, status: RunStatus): Promise<void>;
  /**
   * A local folder holding the checkpoint of run `runId` (its `checkpoint/` artifacts), or null
   * when this store has no such run or the run saved none. A server's checkpoint is downloaded first.
   */
  checkpointOf(runId: string): Promise<string | null>;
  /** A run by id, or null when the store has none. */
  getRun(runId: string): Promise<RunRecord | null>;
  /** The local folders of a run's artifacts and resume checkpoints (a server's: its staging folder on this machine). */
  localDirsOf(runId: string): Promise<{ artifactDir: string; stateDir: string } | null>;
  /** Continues logging into an existing run (marked RUNNING again): `dalab run --resume`. */
  reopenRun(runId: string): Promise<TrackedRun>;
}
