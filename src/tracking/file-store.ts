/**
 * The offline store: MLflow's file-store layout, readable by MLflow itself
 * (MLFLOW_ALLOW_FILE_STORE=true on MLflow 3.13+, or `mlflow migrate-filestore`).
 *
 *   ROOT/0/meta.yaml                        the Default experiment
 *   ROOT/<experiment id>/meta.yaml           name, artifact_location, lifecycle_stage, times
 *   ROOT/<experiment id>/<run id>/meta.yaml  run info (status 1 RUNNING, 3 FINISHED, 4 FAILED, 5 KILLED)
 *       params/<key>      the value
 *       tags/<key>        the value
 *       metrics/<key>     lines "timestamp value step"
 *       artifacts/
 * Keys with '/' (loss/cls) become sub-folders, as MLflow itself writes them. One exception, because a
 * path cannot be a file and a folder at once: per-class metrics `<metric>/class_<k>`, whose
 * `<metric>` is a metric too, are stored as `<metric>.class_<k>` (see fileStoreKey/decodeFileStoreKey).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { MetricPoint, RunInfo, RunRecord, RunStart, RunStatus, TrackedRun, Tracker } from './tracker.js';
import { checkpointDir, RESUME_DIR } from './run-files.js';
import { UserError } from '../messages.js';

const STATUS_CODE: Record<RunStatus, number> = { RUNNING: 1, FINISHED: 3, FAILED: 4, KILLED: 5 };
const STATUS_NAME: Record<string, string> = { '1': 'RUNNING', '2': 'SCHEDULED', '3': 'FINISHED', '4': 'FAILED', '5': 'KILLED' };

function yamlValue(value: string | number | null): string {
  if (value === null) return 'null';
  if (typeof value === 'number') return String(value);
  return `'${value.replace(/'/g, "''")}'`;
}

function writeMeta(file: string, fields: Record<string, string | number | null>): void {
  const text = Object.entries(fields)
    .map(([k, v]) => `${k}: ${yamlValue(v)}`)
    .join('\n');
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text + '\n');
  fs.renameSync(tmp, file);
}

export function readMeta(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^(\w+):\s*(.*)$/.exec(line);
    if (m == null) continue;
    let v = m[2]!.trim();
    if (v.startsWith("'") && v.endsWith("'")) v = v.slice(1, -1).replace(/''/g, "'");
    out[m[1]!] = v;
  }
  return out;
}

/** MLflow accepts alphanumerics, '_', '-', '.', ' ', '/' in keys; anything else would break the layout. */
export function checkKey(key: string): string {
  if (!/^[\w\-. /]+$/.test(key) || key.split('/').some((p) => p === '' || p === '.' || p === '..')) {
    throw new Error(`invalid tracking key '${key}'`);
  }
  return key;
}

/** The key under which a metric is stored in the file store. */
export function fileStoreKey(key: string): string {
  return key.replace(/\/(class_\d+)$/, '.$1');
}

/** Inverse of fileStoreKey: the dalab metric name of a file-store metric key. */
export function decodeFileStoreKey(key: string): string {
  return key.replace(/\.(class_\d+)$/, '/$1');
}

/** Paths of the files below `dir`, relative to it, with '/' separators. */
export function listFiles(dir: string, prefix = ''): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    return entry.isDirectory() ? listFiles(path.join(dir, entry.name), rel) : [rel];
  });
}

let tmpCounter = 0;

/**
 * A param or tag file, written atomically: a reader (MLflow, another dalab process) sees the old
 * value or the new, never a part. The temporary file lies in the run folder itself (`.tmp-*`), where
 * MLflow lists nothing, not in params/ or tags/.
 */
function writeKeyFile(dir: string, key: string, content: string): void {
  const file = path.join(dir, ...checkKey(key).split('/'));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(dir), `.tmp-${process.pid}-${tmpCounter++}`);
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
}

/**
 * Runs `fn` holding the store's lock (a folder created with mkdir, atomic across processes): two
 * processes creating the same experiment at once would otherwise give it two ids. A lock older
 * than 30 s is taken as left by a killed process.
 */
function withStoreLock<T>(root: string, fn: () => T): T {
  const lock = path.join(root, '.dalab-lock');
  fs.mkdirSync(root, { recursive: true });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      try {
        if (Date.now() - fs.statSync(lock).mtimeMs > 30_000) fs.rmSync(lock, { recursive: true, force: true });
      } catch {
        // released meanwhile
      }
      if (Date.now() > deadline) throw new Error(`the tracking store ${root} stays locked (${lock}); remove it if no dalab process runs`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * A `file:` store that cannot be written (a path through a file, a read-only or special file
 * system) fails before anything runs: one UserError naming tracking.uri (the folder is created).
 */
export function checkFileStoreWritable(uri: string): void {
  const root = path.resolve(uri.replace(/^file:(\/\/)?/, ''));
  const probe = path.join(root, `.dalab-write-check-${process.pid}`);
  try {
    fs.mkdirSync(root, { recursive: true });
    fs.writeFileSync(probe, '');
    fs.rmSync(probe);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UserError(`tracking.uri: '${uri}': the folder ${root} cannot be written (${code})`);
  }
}

export class FileStoreTracker implements Tracker {
  readonly root: string;

  constructor(readonly uri: string) {
    this.root = path.resolve(uri.replace(/^file:(\/\/)?/, ''));
  }

  private ensureDefaultExperiment(): void {
    const dir = path.join(this.root, '0');
    if (fs.existsSync(path.join(dir, 'meta.yaml'))) return;
    fs.mkdirSync(dir, { recursive: true });
    const now = Date.now();
    writeMeta(path.join(dir, 'meta.yaml'), {
      artifact_location: pathToFileURL(dir).href,
      creation_time: now,
      experiment_id: '0',
      last_update_time: now,
      lifecycle_stage: 'active',
      name: 'Default',
    });
  }

  /** The id of the experiment called `name`, created when missing (under the store's lock: one id per name). */
  experimentId(name: string): string {
    const existing = this.findExperiment(name);
    if (existing != null) return existing.id;
    return withStoreLock(this.root, () => {
      this.ensureDefaultExperiment();
      const found = this.findExperiment(name);
      if (found != null) return found.id;
      // MLflow's own file store numbers experiments; keep doing so.
      for (let id = this.maxExperimentId() + 1; ; id++) {
        const dir = path.join(this.root, String(id));
        try {
          fs.mkdirSync(dir);
        } catch {
          continue;
        }
        const now = Date.now();
        writeMeta(path.join(dir, 'meta.yaml'), {
          artifact_location: pathToFileURL(dir).href,
          creation_time: now,
          experiment_id: String(id),
          last_update_time: now,
          lifecycle_stage: 'active',
          name,
        });
        return String(id);
      }
    });
  }

  private findExperiment(name: string): { id: string } | null {
    if (!fs.existsSync(this.root)) return null;
    for (const entry of fs.readdirSync(this.root, { withFileTypes: true })) {
      const meta = path.join(this.root, entry.name, 'meta.yaml');
      if (!entry.isDirectory() || !fs.existsSync(meta)) continue;
      const fields = readMeta(meta);
      if (fields['name'] === name && fields['lifecycle_stage'] !== 'deleted') return { id: entry.name };
    }
    return null;
  }

  private maxExperimentId(): number {
    let max = 0;
    for (const entry of fs.readdirSync(this.root, { withFileTypes: true })) if (entry.isDirectory() && /^\d+$/.test(entry.name)) max = Math.max(max, Number(entry.name));
    return max;
  }

  /** The folder of each active run of the experiment (none when the experiment does not exist). */
  private runDirs(experiment?: string): string[] {
    if (!fs.existsSync(this.root)) return [];
    const dirs: string[] = [];
    for (const entry of fs.readdirSync(this.root, { withFileTypes: true })) {
      const expMeta = path.join(this.root, entry.name, 'meta.yaml');
      if (!entry.isDirectory() || !fs.existsSync(expMeta)) continue;
      const meta = readMeta(expMeta);
      if (meta['lifecycle_stage'] === 'deleted' || (experiment != null && meta['name'] !== experiment)) continue;
      for (const run of fs.readdirSync(path.join(this.root, entry.name), { withFileTypes: true })) {
        const dir = path.join(this.root, entry.name, run.name);
        if (run.isDirectory() && fs.existsSync(path.join(dir, 'meta.yaml')) && readMeta(path.join(dir, 'meta.yaml'))['lifecycle_stage'] !== 'deleted') dirs.push(dir);
      }
    }
    return dirs;
  }

  async findRuns(experiment: string, tags: Record<string, string>): Promise<RunInfo[]> {
    const found: RunInfo[] = [];
    for (const dir of this.runDirs(experiment)) {
      const runTags: Record<string, string> = {};
      for (const key of listFiles(path.join(dir, 'tags'))) runTags[key] = fs.readFileSync(path.join(dir, 'tags', ...key.split('/')), 'utf8');
      if (!Object.entries(tags).every(([k, v]) => runTags[k] === v)) continue;
      const meta = readMeta(path.join(dir, 'meta.yaml'));
      found.push({ runId: meta['run_id'] ?? path.basename(dir), status: STATUS_NAME[meta['status'] ?? '1'] ?? 'RUNNING', tags: runTags, startTime: Number(meta['start_time'] ?? 0) });
    }
    return found;
  }

  private runDir(runId: string): string | undefined {
    return /^[0-9a-f]{32}$/.test(runId) ? this.runDirs().find((d) => path.basename(d) === runId) : undefined;
  }

  async getRun(runId: string): Promise<RunRecord | null> {
    const dir = this.runDir(runId);
    if (dir == null) return null;
    const meta = readMeta(path.join(dir, 'meta.yaml'));
    const tags: Record<string, string> = {};
    for (const key of listFiles(path.join(dir, 'tags'))) tags[key] = fs.readFileSync(path.join(dir, 'tags', ...key.split('/')), 'utf8');
    const metrics: RunRecord['metrics'] = {};
    for (const key of listFiles(path.join(dir, 'metrics'))) {
      let latest: { value: number; step: number } | null = null;
      for (const line of fs.readFileSync(path.join(dir, 'metrics', ...key.split('/')), 'utf8').split('\n')) {
        const parts = line.trim().split(' ');
        if (parts.length !== 3) continue;
        const value = parts[1] === 'nan' ? NaN : Number(parts[1]);
        const step = Number(parts[2]);
        if (latest == null || step >= latest.step) latest = { value, step };
      }
      if (latest != null) metrics[decodeFileStoreKey(key)] = latest;
    }
    return { runId, status: STATUS_NAME[meta['status'] ?? '1'] ?? 'RUNNING', tags, startTime: Number(meta['start_time'] ?? 0), metrics };
  }

  async localDirsOf(runId: string): Promise<{ artifactDir: string; stateDir: string } | null> {
    const dir = this.runDir(runId);
    if (dir == null) return null;
    return { artifactDir: path.join(dir, 'artifacts'), stateDir: path.join(dir, 'artifacts', RESUME_DIR) };
  }

  async reopenRun(runId: string): Promise<TrackedRun> {
    const dir = this.runDir(runId);
    if (dir == null) throw new Error(`no run ${runId} in ${this.root}`);
    const meta = readMeta(path.join(dir, 'meta.yaml'));
    const run = new FileStoreRun(runId, meta['experiment_id'] ?? path.basename(path.dirname(dir)), dir, meta['run_name'] ?? '', Number(meta['start_time'] ?? Date.now()));
    run.writeRunMeta('RUNNING', null);
    return run;
  }

  async checkpointOf(runId: string): Promise<string | null> {
    const dir = this.runDir(runId);
    if (dir == null) return null;
    const folder = checkpointDir(path.join(dir, 'artifacts'));
    return fs.existsSync(folder) ? folder : null;
  }

  async setRunStatus(runId: string, status: RunStatus): Promise<void> {
    const dir = this.runDirs().find((d) => path.basename(d) === runId);
    if (dir == null) throw new Error(`no run ${runId} in ${this.root}`);
    const file = path.join(dir, 'meta.yaml');
    const meta: Record<string, string | number | null> = readMeta(file);
    for (const key of ['start_time', 'source_type', 'status']) if (meta[key] != null && /^\d+$/.test(String(meta[key]))) meta[key] = Number(meta[key]);
    meta['status'] = STATUS_CODE[status];
    meta['end_time'] = status === 'RUNNING' ? null : Date.now();
    if (meta['tags'] === 'null') meta['tags'] = null;
    writeMeta(file, meta);
  }

  async startRun(start: RunStart): Promise<TrackedRun> {
    const experimentId = this.experimentId(start.experiment);
    const runId = randomUUID().replace(/-/g, '');
    const runDir = path.join(this.root, experimentId, runId);
    fs.mkdirSync(path.join(runDir, 'artifacts'), { recursive: true });
    for (const sub of ['params', 'metrics', 'tags']) fs.mkdirSync(path.join(runDir, sub));
    const run = new FileStoreRun(runId, experimentId, runDir, start.runName, Date.now());
    const tags: Record<string, string> = { 'mlflow.runName': start.runName, 'mlflow.user': os.userInfo().username, ...start.tags };
    if (start.parentRunId != null) tags['mlflow.parentRunId'] = start.parentRunId;
    run.setTags(tags);
    run.writeRunMeta('RUNNING', null);
    return run;
  }
}

class FileStoreRun implements TrackedRun {
  readonly artifactDir: string;
  readonly stateDir: string;
  private readonly pending: MetricPoint[] = [];
  /** Flushes run one after another, so lines of a metric stay in logging order. */
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    readonly runId: string,
    readonly experimentId: string,
    private readonly dir: string,
    private readonly runName: string,
    private readonly startTime: number,
  ) {
    this.artifactDir = path.join(dir, 'artifacts');
    // Resume checkpoints: an artifact folder of the run (MLflow lists them; kept for a FAILED or KILLED run).
    this.stateDir = path.join(this.artifactDir, RESUME_DIR);
  }

  writeRunMeta(status: RunStatus, endTime: number | null): void {
    writeMeta(path.join(this.dir, 'meta.yaml'), {
      artifact_uri: pathToFileURL(this.artifactDir).href,
      end_time: endTime,
      entry_point_name: '',
      experiment_id: this.experimentId,
      lifecycle_stage: 'active',
      run_id: this.runId,
      run_name: this.runName,
      run_uuid: this.runId,
      source_name: '',
      source_type: 4,
      source_version: '',
      start_time: this.startTime,
      status: STATUS_CODE[status],
      tags: null,
      user_id: os.userInfo().username,
    });
  }

  logParams(params: Record<string, string>): void {
    for (const [k, v] of Object.entries(params)) writeKeyFile(path.join(this.dir, 'params'), k, v);
  }

  setTags(tags: Record<string, string>): void {
    for (const [k, v] of Object.entries(tags)) writeKeyFile(path.join(this.dir, 'tags'), k, v);
  }

  logMetric(key: string, value: number, step: number, timestamp = Date.now()): void {
    checkKey(key);
    this.pending.push({ key, value, step, timestamp });
  }

  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writePending());
    return this.flushing;
  }

  private async writePending(): Promise<void> {
    if (this.pending.length === 0) return;
    const byKey = new Map<string, string[]>();
    for (const m of this.pending) {
      const key = fileStoreKey(m.key);
      const lines = byKey.get(key) ?? [];
      // MLflow's file store reads NaN as 'nan' (Python float()).
      lines.push(`${m.timestamp} ${Number.isNaN(m.value) ? 'nan' : m.value} ${m.step}\n`);
      byKey.set(key, lines);
    }
    this.pending.length = 0;
    for (const [key, lines] of byKey) {
      const file = path.join(this.dir, 'metrics', ...key.split('/'));
      await fs.promises.mkdir(path.dirname(file), { recursive: true });
      await fs.promises.appendFile(file, lines.join(''));
    }
  }

  async end(status: RunStatus): Promise<void> {
    await this.flush();
    this.writeRunMeta(status, Date.now());
  }
}
