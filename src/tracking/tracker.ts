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
  logParams(params: Record<string, string>): void;
  setTags(tags: Record<string, string>): void;
  /** Buffered; written by `flush()` and at `end()`, never on the training hot path. */
  logMetric(key: string, value: number, step: number, timestamp?: number): void;
  flush(): Promise<void>;
  end(status: RunStatus): Promise<void>;
}

export interface Tracker {
  readonly uri: string;
  startRun(start: RunStart): Promise<TrackedRun>;
}
