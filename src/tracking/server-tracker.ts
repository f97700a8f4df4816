/**
 * Tracking against an MLflow server (`tracking.uri: http(s)://...`) through the REST client.
 * Params, tags and metrics are queued and sent in log-batch requests by a background flush (every
 * few seconds, never on the training hot path) and at the end; artifacts are written to a local
 * folder during the run and uploaded through the server's artifact proxy when it ends.
 *
 * No data is lost when the server goes away: the run keeps its whole history in memory, and when
 * the server cannot be reached (after the client's retries) it fails over to the offline store
 * `./mlruns` (OFFLINE_STORE): everything logged so far and
 * everything after goes there, under a local run id, tagged `dalab.server_run_id` (the partial
 * run on the server), for `dalab sync` to deliver later.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MlflowClient, MlflowError, splitCredentials, type MlflowKeyValue, type MlflowMetric } from './mlflow-client.js';
import type { RunInfo, RunRecord, RunStart, RunStatus, TrackedRun, Tracker } from './tracker.js';
import { checkKey, FileStoreTracker, listFiles } from './file-store.js';
import { RESUME_DIR, RUN_FILES } from './run-files.js';
import { joinInside } from '../util/files.js';

const FLUSH_INTERVAL_MS = 3000;
/** Where runs go while the server is unreachable (README, "Tracking": the offline store ./mlruns). */
export const OFFLINE_STORE = 'file:./mlruns';

export class MlflowServerTracker implements Tracker {
  readonly client: MlflowClient;
  /** The server's URI without credentials (what messages, params and tags may show). */
  readonly uri: string;

  constructor(
    private readonly fullUri: string,
    /** Where run artifacts are staged before upload. */
    private readonly stagingRoot = path.resolve('.dalab', 'runs'),
    private readonly offlineUri = OFFLINE_STORE,
    clientRetries?: number,
  ) {
    this.uri = splitCredentials(fullUri).uri;
    this.client = new MlflowClient(fullUri, clientRetries != null ? { retries: clientRetries } : {});
  }

  private checked: Promise<void> | null = null;

  /** One request, retried once (a sweep's combinations share the answer). */
  check(): Promise<void> {
    this.checked ??= new MlflowClient(this.fullUri, { retries: 1 }).searchExperiments().then(() => undefined);
    return this.checked;
  }

  async findRuns(experiment: string, tags: Record<string, string>): Promise<RunInfo[]> {
    const found = await this.client.getExperimentByName(experiment);
    if (found == null) return [];
    const filter = Object.entries(tags)
      .map(([k, v]) => `tags."${k}" = '${v.replace(/'/g, "\\'")}'`)
      .join(' and ');
    const runs = await this.client.searchRuns([found.experiment_id], filter, 100_000);
    return runs.map((r) => ({ runId: r.info.run_id, status: r.info.status, tags: Object.fromEntries((r.data.tags ?? []).map((t) => [t.key, t.value])), startTime: Number(r.info.start_time ?? 0) }));
  }

  async getRun(runId: string): Promise<RunRecord | null> {
    let run;
    try {
      run = await this.client.getRun(runId);
    } catch (error) {
      if (error instanceof MlflowError && (error.status === 404 || error.status === 400)) return null;
      throw error;
    }
    const metrics: RunRecord['metrics'] = {};
    // MLflow's latest metrics: the value at the highest step of each key.
    for (const m of run.data.metrics ?? []) metrics[m.key] = { value: Number(m.value), step: Number(m.step) };
    return {
      runId,
      status: run.info.status,
      tags: Object.fromEntries((run.data.tags ?? []).map((t) => [t.key, t.value])),
      startTime: Number(run.info.start_time ?? 0),
      metrics,
    };
  }

  async localDirsOf(runId: string): Promise<{ artifactDir: string; stateDir: string } | null> {
    return { artifactDir: path.join(this.stagingRoot, runId, 'artifacts'), stateDir: path.join(this.stagingRoot, runId, RESUME_DIR) };
  }

  async reopenRun(runId: string): Promise<TrackedRun> {
    const run = await this.client.getRun(runId);
    const tags = Object.fromEntries((run.data.tags ?? []).map((t) => [t.key, t.value]));
    await this.client.updateRun(runId, 'RUNNING');
    const artifactDir = path.join(this.stagingRoot, runId, 'artifacts');
    fs.mkdirSync(artifactDir, { recursive: true });
    const experiment = (await this.client.searchExperiments()).find((e) => e.experiment_id === run.info.experiment_id)?.name ?? run.info.experiment_id;
    const start: RunStart = { experiment, runName: run.info.run_name ?? tags['mlflow.runName'] ?? runId, tags, ...(tags['mlflow.parentRunId'] != null ? { parentRunId: tags['mlflow.parentRunId'] } : {}) };
    return new ServerRun(this.client, runId, run.info.experiment_id, run.info.artifact_uri, artifactDir, start, tags, this.offlineUri, path.join(this.stagingRoot, runId, RESUME_DIR));
  }

  async checkpointOf(runId: string): Promise<string | null> {
    let artifactUri: string;
    try {
      artifactUri = (await this.client.getRun(runId)).info.artifact_uri;
    } catch (error) {
      if (error instanceof MlflowError && error.status === 404) return null;
      throw error;
    }
    // Downloaded once into the staging folder, under the run's id (a finished run's files never change).
    const local = path.join(this.stagingRoot, runId, 'artifacts', RUN_FILES.checkpoint);
    if (fs.existsSync(local)) return local;
    const files: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await this.client.listArtifacts(runId, dir)) {
        if (entry.is_dir) await walk(entry.path);
        else files.push(entry.path);
      }
    };
    await walk(RUN_FILES.checkpoint);
    if (files.length === 0) return null;
    const partial = `${local}.partial-${process.pid}`;
    for (const file of files) {
      const bytes = await this.client.downloadArtifactBytes(artifactUri, file);
      if (bytes == null) return null;
      // A path the server lists is checked before anything is written (no '..', no absolute path).
      const target = joinInside(partial, file.split('/').slice(1).join('/'), 'checkpoint file');
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, bytes);
    }
    fs.renameSync(partial, local);
    return local;
  }

  async setRunStatus(runId: string, status: RunStatus): Promise<void> {
    await this.client.updateRun(runId, status, status === 'RUNNING' ? undefined : Date.now());
  }

  async startRun(start: RunStart): Promise<TrackedRun> {
    const tags: Record<string, string> = { 'mlflow.runName': start.runName, 'mlflow.user': os.userInfo().username, ...start.tags };
    if (start.parentRunId != null) tags['mlflow.parentRunId'] = start.parentRunId;
    try {
      const experimentId = await this.client.experimentId(start.experiment);
      const info = await this.client.createRun(
        experimentId,
        start.runName,
        Object.entries(tags).map(([key, value]) => ({ key, value })),
      );
      const artifactDir = path.join(this.stagingRoot, info.run_id, 'artifacts');
      fs.mkdirSync(artifactDir, { recursive: true });
      return new ServerRun(this.client, info.run_id, experimentId, info.artifact_uri, artifactDir, start, tags, this.offlineUri, path.join(this.stagingRoot, info.run_id, RESUME_DIR));
    } catch (error) {
      // Unreachable from the start: the whole run goes to the offline store.
      const offline = new FileStoreTracker(this.offlineUri);
      const run = await offline.startRun({ ...start, tags: { ...start.tags, 'dalab.offline_reason': `server ${this.uri} unreachable: ${(error as Error).message}`.slice(0, 500) } });
      process.stderr.write(`dalab: MLflow server ${this.uri} unreachable; logging to ${offline.root} for 'dalab sync' (${(error as Error).message})\n`);
      return run;
    }
  }
}

class ServerRun implements TrackedRun {
  private metrics: MlflowMetric[] = [];
  private params: MlflowKeyValue[] = [];
  private tags: MlflowKeyValue[] = [];
  /** Everything logged, for a failover to the offline store. */
  private readonly history = { metrics: [] as MlflowMetric[], params: {} as Record<string, string>, tags: {} as Record<string, string> };
  private flushing: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private offline: TrackedRun | null = null;

  constructor(
    private readonly client: MlflowClient,
    private readonly serverRunId: string,
    readonly experimentId: string,
    private readonly artifactUri: string,
    private readonly stagingDir: string,
    private readonly start: RunStart,
    startTags: Record<string, string>,
    private readonly offlineUri: string,
    /** Resume checkpoints stay on this machine, beside the staged artifacts (never uploaded). */
    readonly stateDir: string,
  ) {
    Object.assign(this.history.tags, startTags);
    this.timer = setInterval(() => void this.flush().catch(() => undefined), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  /** The server's run id, or the offline store's once the run failed over. */
  get runId(): string {
    return this.offline?.runId ?? this.serverRunId;
  }

  get artifactDir(): string {
    return this.offline?.artifactDir ?? this.stagingDir;
  }

  logParams(params: Record<string, string>): void {
    for (const [key, value] of Object.entries(params)) {
      this.history.params[checkKey(key)] = value;
      if (this.offline != null) this.offline.logParams({ [key]: value });
      else this.params.push({ key, value });
    }
  }

  setTags(tags: Record<string, string>): void {
    for (const [key, value] of Object.entries(tags)) {
      this.history.tags[checkKey(key)] = value;
      if (this.offline != null) this.offline.setTags({ [key]: value });
      else this.tags.push({ key, value });
    }
  }

  logMetric(key: string, value: number, step: number, timestamp = Date.now()): void {
    const metric = { key: checkKey(key), value, step, timestamp };
    this.history.metrics.push(metric);
    if (this.offline != null) this.offline.logMetric(key, value, step, timestamp);
    else this.metrics.push(metric);
  }

  /** Moves the run to the offline store with everything logged so far. */
  private async failOver(error: unknown): Promise<void> {
    if (this.offline != null) return;
    clearInterval(this.timer);
    const tracker = new FileStoreTracker(this.offlineUri);
    const { 'mlflow.runName': _name, 'mlflow.user': _user, ...tags } = this.history.tags;
    const run = await tracker.startRun({
      ...this.start,
      tags: { ...tags, 'dalab.server_run_id': this.serverRunId, 'dalab.offline_reason': `server unreachable: ${(error as Error).message}`.slice(0, 500) },
    });
    run.logParams(this.history.params);
    for (const m of this.history.metrics) run.logMetric(m.key, m.value, m.step, m.timestamp);
    this.metrics = [];
    this.params = [];
    this.tags = [];
    this.offline = run;
    process.stderr.write(`dalab: MLflow server unreachable (${(error as Error).message}); run continues in ${tracker.root} as ${run.runId}, deliver it with 'dalab sync'\n`);
  }

  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.offline != null) return this.offline.flush();
      if (this.metrics.length === 0 && this.params.length === 0 && this.tags.length === 0) return;
      const batch = { metrics: this.metrics, params: this.params, tags: this.tags };
      this.metrics = [];
      this.params = [];
      this.tags = [];
      try {
        await this.client.logBatch(this.serverRunId, batch);
      } catch (error) {
        await this.failOver(error);
      }
    });
    return this.flushing;
  }

  async end(status: RunStatus): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    if (this.offline == null) {
      try {
        for (const rel of listFiles(this.stagingDir)) {
          await this.client.uploadArtifact(this.artifactUri, rel, fs.readFileSync(path.join(this.stagingDir, rel)));
        }
        await this.client.updateRun(this.serverRunId, status, Date.now());
        return;
      } catch (error) {
        await this.failOver(error);
      }
    }
    // Offline: the artifacts written to the staging folder join the local run.
    const offline = this.offline!;
    if (fs.existsSync(this.stagingDir)) fs.cpSync(this.stagingDir, offline.artifactDir, { recursive: true });
    await offline.end(status);
  }
}
