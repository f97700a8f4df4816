/**
 * Tracking against an MLflow server (`tracking.uri: http(s)://...`) through the REST client.
 * Params, tags and metrics are queued and sent in log-batch requests by a background flush (every
 * few seconds, never on the training hot path) and at the end; artifacts are written to a local
 * folder during the run and uploaded through the server's artifact proxy when it ends.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MlflowClient, type MlflowKeyValue, type MlflowMetric } from './mlflow-client.js';
import type { RunStart, RunStatus, TrackedRun, Tracker } from './tracker.js';
import { checkKey } from './file-store.js';

const FLUSH_INTERVAL_MS = 3000;

export class MlflowServerTracker implements Tracker {
  readonly client: MlflowClient;

  constructor(
    readonly uri: string,
    /** Where run artifacts are staged before upload. */
    private readonly stagingRoot = path.resolve('.dalab', 'runs'),
  ) {
    this.client = new MlflowClient(uri);
  }

  async startRun(start: RunStart): Promise<TrackedRun> {
    const experimentId = await this.client.experimentId(start.experiment);
    const tags: Record<string, string> = { 'mlflow.runName': start.runName, 'mlflow.user': os.userInfo().username, ...start.tags };
    if (start.parentRunId != null) tags['mlflow.parentRunId'] = start.parentRunId;
    const info = await this.client.createRun(
      experimentId,
      start.runName,
      Object.entries(tags).map(([key, value]) => ({ key, value })),
    );
    const artifactDir = path.join(this.stagingRoot, info.run_id, 'artifacts');
    fs.mkdirSync(artifactDir, { recursive: true });
    return new ServerRun(this.client, info.run_id, experimentId, info.artifact_uri, artifactDir);
  }
}

function listFiles(dir: string, prefix = ''): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    return entry.isDirectory() ? listFiles(path.join(dir, entry.name), rel) : [rel];
  });
}

class ServerRun implements TrackedRun {
  private metrics: MlflowMetric[] = [];
  private params: MlflowKeyValue[] = [];
  private tags: MlflowKeyValue[] = [];
  private flushing: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly client: MlflowClient,
    readonly runId: string,
    readonly experimentId: string,
    private readonly artifactUri: string,
    readonly artifactDir: string,
  ) {
    this.timer = setInterval(() => void this.flush().catch(() => undefined), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  logParams(params: Record<string, string>): void {
    for (const [key, value] of Object.entries(params)) this.params.push({ key: checkKey(key), value });
  }

  setTags(tags: Record<string, string>): void {
    for (const [key, value] of Object.entries(tags)) this.tags.push({ key: checkKey(key), value });
  }

  logMetric(key: string, value: number, step: number, timestamp = Date.now()): void {
    this.metrics.push({ key: checkKey(key), value, step, timestamp });
  }

  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.metrics.length === 0 && this.params.length === 0 && this.tags.length === 0) return;
      const batch = { metrics: this.metrics, params: this.params, tags: this.tags };
      this.metrics = [];
      this.params = [];
      this.tags = [];
      try {
        await this.client.logBatch(this.runId, batch);
      } catch (error) {
        // Keep what was not delivered, in order, for the next flush.
        this.metrics = [...batch.metrics, ...this.metrics];
        this.params = [...batch.params, ...this.params];
        this.tags = [...batch.tags, ...this.tags];
        throw error;
      }
    });
    return this.flushing;
  }

  async end(status: RunStatus): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    for (const rel of listFiles(this.artifactDir)) {
      await this.client.uploadArtifact(this.artifactUri, rel, fs.readFileSync(path.join(this.artifactDir, rel)));
    }
    await this.client.updateRun(this.runId, status, Date.now());
  }
}
