/**
 * A small typed client for MLflow's REST API (https://mlflow.org/docs/latest/rest-api.html) on
 * Node's fetch: experiments, runs, batched logging within the documented limits, tags, and
 * artifact upload through the tracking server's artifact proxy (`mlflow-artifacts`).
 * Retries with exponential backoff on 429, 5xx and connection errors. Credentials come from
 * MLFLOW_TRACKING_USERNAME / _PASSWORD (basic) or MLFLOW_TRACKING_TOKEN (bearer) and are only
 * ever sent as the Authorization header.
 */

import { checkRelativePath } from '../util/files.js';

export interface MlflowMetric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

export interface MlflowKeyValue {
  key: string;
  value: string;
}

export interface MlflowRunInfo {
  run_id: string;
  experiment_id: string;
  status: string;
  artifact_uri: string;
  start_time?: number;
  end_time?: number;
  run_name?: string;
}

export interface MlflowRun {
  info: MlflowRunInfo;
  data: { metrics?: MlflowMetric[]; params?: MlflowKeyValue[]; tags?: MlflowKeyValue[] };
}

/** MLflow's documented limits for runs/log-batch and for keys and values. */
export const LOG_BATCH_LIMITS = { metrics: 1000, params: 100, tags: 100, total: 1000 } as const;
export const PARAM_VALUE_MAX = 6000;
export const TAG_VALUE_MAX = 8000;

export class MlflowError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'MlflowError';
  }
}

export interface ClientOptions {
  retries?: number;
  /** First backoff delay in ms (doubles each retry). */
  backoffMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** An http(s) URI without its user:password@, and the two (percent-decoded), if it had them. */
export function splitCredentials(uri: string): { uri: string; username?: string; password?: string } {
  const m = /^(https?:\/\/)([^@/]*)@(.*)$/.exec(uri);
  if (m == null) return { uri };
  const [user, ...rest] = m[2]!.split(':');
  const decode = (v: string) => {
    try {
      return decodeURIComponent(v);
    } catch {
      return v;
    }
  };
  return { uri: `${m[1]}${m[3]}`, username: decode(user!), ...(rest.length > 0 ? { password: decode(rest.join(':')) } : {}) };
}

export class MlflowClient {
  private readonly base: string;
  private readonly authorization?: string;
  private readonly retries: number;
  private readonly backoffMs: number;

  constructor(trackingUri: string, options: ClientOptions = {}) {
    // user:password@ in the URI becomes Basic authentication; the URI kept (and shown in every message) has none.
    const { uri, username, password } = splitCredentials(trackingUri);
    this.base = uri.replace(/\/+$/, '');
    const env = options.env ?? process.env;
    if (username != null) this.authorization = `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}`;
    else if (env['MLFLOW_TRACKING_TOKEN']) this.authorization = `Bearer ${env['MLFLOW_TRACKING_TOKEN']}`;
    else if (env['MLFLOW_TRACKING_USERNAME'] != null) {
      this.authorization = `Basic ${Buffer.from(`${env['MLFLOW_TRACKING_USERNAME']}:${env['MLFLOW_TRACKING_PASSWORD'] ?? ''}`).toString('base64')}`;
    }
    this.retries = options.retries ?? 4;
    this.backoffMs = options.backoffMs ?? 250;
  }

  private async request<T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown, raw?: Uint8Array, kind: 'json' | 'text' | 'bytes' = 'json'): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.authorization != null) headers['Authorization'] = this.authorization;
    if (raw == null && body !== undefined) headers['Content-Type'] = 'application/json';
    if (raw != null) headers['Content-Type'] = 'application/octet-stream';
    let lastError: unknown;
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, this.backoffMs * 2 ** (attempt - 1)));
      let response: Response;
      try {
        response = await fetch(`${this.base}${path}`, {
          method,
          headers,
          body: (raw ?? (body === undefined ? undefined : JSON.stringify(body))) as BodyInit | undefined,
        });
      } catch (error) {
        lastError = new MlflowError(`cannot reach ${this.base}: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}`);
        continue;
      }
      if (response.ok) {
        if (kind === 'bytes') return new Uint8Array(await response.arrayBuffer()) as T;
        const text = await response.text();
        if (kind === 'text') return text as T;
        return (text === '' ? {} : JSON.parse(text)) as T;
      }
      const text = await response.text();
      let message = text.slice(0, 300);
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? message;
      } catch {
        // not JSON
      }
      lastError = new MlflowError(`${method} ${path.split('?')[0]}: HTTP ${response.status}: ${message}`, response.status);
      if (response.status !== 429 && response.status < 500) break;
    }
    throw lastError;
  }

  async getExperimentByName(name: string): Promise<{ experiment_id: string; name: string } | null> {
    try {
      const r = await this.request<{ experiment: { experiment_id: string; name: string } }>('GET', `/api/2.0/mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`);
      return r.experiment;
    } catch (error) {
      if (error instanceof MlflowError && error.status === 404) return null;
      throw error;
    }
  }

  async createExperiment(name: string): Promise<string> {
    const r = await this.request<{ experiment_id: string }>('POST', '/api/2.0/mlflow/experiments/create', { name });
    return r.experiment_id;
  }

  /** The id of the experiment called `name`, created when missing (a concurrent creator wins). */
  async experimentId(name: string): Promise<string> {
    const existing = await this.getExperimentByName(name);
    if (existing != null) return existing.experiment_id;
    try {
      return await this.createExperiment(name);
    } catch (error) {
      const again = await this.getExperimentByName(name);
      if (again != null) return again.experiment_id;
      throw error;
    }
  }

  async createRun(experimentId: string, runName: string, tags: MlflowKeyValue[], startTime = Date.now()): Promise<MlflowRunInfo> {
    const r = await this.request<{ run: MlflowRun }>('POST', '/api/2.0/mlflow/runs/create', { experiment_id: experimentId, run_name: runName, start_time: startTime, tags });
    return r.run.info;
  }

  async updateRun(runId: string, status: string, endTime?: number): Promise<void> {
    await this.request('POST', '/api/2.0/mlflow/runs/update', { run_id: runId, status, ...(endTime != null ? { end_time: endTime } : {}) });
  }

  async deleteRun(runId: string): Promise<void> {
    await this.request('POST', '/api/2.0/mlflow/runs/delete', { run_id: runId });
  }

  async getRun(runId: string): Promise<MlflowRun> {
    return (await this.request<{ run: MlflowRun }>('GET', `/api/2.0/mlflow/runs/get?run_id=${runId}`)).run;
  }

  async searchRuns(experimentIds: string[], filter = '', maxResults = 1000): Promise<MlflowRun[]> {
    const runs: MlflowRun[] = [];
    let pageToken: string | undefined;
    do {
      const r = await this.request<{ runs?: MlflowRun[]; next_page_token?: string }>('POST', '/api/2.0/mlflow/runs/search', {
        experiment_ids: experimentIds,
        filter,
        max_results: Math.min(maxResults, 1000),
        ...(pageToken != null ? { page_token: pageToken } : {}),
      });
      runs.push(...(r.runs ?? []));
      pageToken = r.next_page_token;
    } while (pageToken != null && runs.length < maxResults);
    return runs;
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.request('POST', '/api/2.0/mlflow/runs/set-tag', { run_id: runId, key, value: value.slice(0, TAG_VALUE_MAX) });
  }

  /**
   * Sends everything in as few log-batch requests as MLflow's limits allow, up to `concurrency`
   * requests in flight (MLflow orders a metric's values by step and timestamp, not arrival).
   */
  async logBatch(runId: string, batch: { metrics?: MlflowMetric[]; params?: MlflowKeyValue[]; tags?: MlflowKeyValue[] }, concurrency = 4): Promise<void> {
    const metrics = [...(batch.metrics ?? [])];
    const params = (batch.params ?? []).map((p) => ({ key: p.key, value: p.value.slice(0, PARAM_VALUE_MAX) }));
    const tags = (batch.tags ?? []).map((t) => ({ key: t.key, value: t.value.slice(0, TAG_VALUE_MAX) }));
    const bodies: object[] = [];
    while (metrics.length > 0 || params.length > 0 || tags.length > 0) {
      const p = params.splice(0, LOG_BATCH_LIMITS.params);
      const t = tags.splice(0, LOG_BATCH_LIMITS.tags);
      const m = metrics.splice(0, Math.min(LOG_BATCH_LIMITS.metrics, LOG_BATCH_LIMITS.total - p.length - t.length));
      bodies.push({
        run_id: runId,
        metrics: m.map((x) => ({ key: x.key, value: Number.isFinite(x.value) ? x.value : Number.isNaN(x.value) ? 'NaN' : x.value > 0 ? 'Infinity' : '-Infinity', timestamp: x.timestamp, step: x.step })),
        params: p,
        tags: t,
      });
    }
    let next = 0;
    const worker = async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        await this.request('POST', '/api/2.0/mlflow/runs/log-batch', body);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, bodies.length)) }, worker));
  }

  async metricHistory(runId: string, key: string): Promise<MlflowMetric[]> {
    const r = await this.request<{ metrics?: MlflowMetric[] }>('GET', `/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=${encodeURIComponent(key)}&max_results=25000`);
    return r.metrics ?? [];
  }

  /** Uploads one file under the run's artifact root (`mlflow-artifacts:/...` runs only). */
  async uploadArtifact(artifactUri: string, relativePath: string, content: Uint8Array): Promise<void> {
    const prefix = 'mlflow-artifacts:';
    if (!artifactUri.startsWith(prefix)) throw new MlflowError(`artifact root ${artifactUri} is not served by the tracking server (start it with --serve-artifacts)`);
    const root = artifactUri.slice(prefix.length).replace(/^\/+/, '');
    const path = [...root.split('/'), ...checkRelativePath(relativePath, 'artifact').split('/')].map(encodeURIComponent).join('/');
    await this.request('PUT', `/api/2.0/mlflow-artifacts/artifacts/${path}`, undefined, content);
  }

  /** The text of one artifact of a run (through the artifact proxy), or null when the run has no such file. */
  async downloadArtifact(artifactUri: string, relativePath: string): Promise<string | null> {
    return this.fetchArtifact<string>(artifactUri, relativePath, 'text');
  }

  /** The bytes of one artifact of a run, or null when the run has no such file. */
  async downloadArtifactBytes(artifactUri: string, relativePath: string): Promise<Uint8Array | null> {
    return this.fetchArtifact<Uint8Array>(artifactUri, relativePath, 'bytes');
  }

  private async fetchArtifact<T>(artifactUri: string, relativePath: string, kind: 'text' | 'bytes'): Promise<T | null> {
    const prefix = 'mlflow-artifacts:';
    if (!artifactUri.startsWith(prefix)) throw new MlflowError(`artifact root ${artifactUri} is not served by the tracking server (start it with --serve-artifacts)`);
    const root = artifactUri.slice(prefix.length).replace(/^\/+/, '');
    const path = [...root.split('/'), ...checkRelativePath(relativePath, 'artifact').split('/')].map(encodeURIComponent).join('/');
    try {
      return await this.request<T>('GET', `/api/2.0/mlflow-artifacts/artifacts/${path}`, undefined, undefined, kind);
    } catch (error) {
      if (error instanceof MlflowError && error.status === 404) return null;
      throw error;
    }
  }

  /** Active experiments, all pages. */
  async searchExperiments(): Promise<{ experiment_id: string; name: string }[]> {
    const out: { experiment_id: string; name: string }[] = [];
    let pageToken: string | undefined;
    do {
      const r = await this.request<{ experiments?: { experiment_id: string; name: string }[]; next_page_token?: string }>('POST', '/api/2.0/mlflow/experiments/search', {
        max_results: 1000,
        view_type: 'ACTIVE_ONLY',
        ...(pageToken != null ? { page_token: pageToken } : {}),
      });
      out.push(...(r.experiments ?? []));
      pageToken = r.next_page_token;
    } while (pageToken != null);
    return out;
  }

  async listArtifacts(runId: string, path = ''): Promise<{ path: string; is_dir: boolean; file_size?: number }[]> {
    const r = await this.request<{ files?: { path: string; is_dir: boolean; file_size?: number }[] }>('GET', `/api/2.0/mlflow/artifacts/list?run_id=${runId}${path ? `&path=${encodeURIComponent(path)}` : ''}`);
    return r.files ?? [];
  }
}
