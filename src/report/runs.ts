/**
 * The runs a report draws, read the same way from the offline store (MLflow file-store layout)
 * or from an MLflow server over REST: params, tags, latest metric values, metric histories on
 * demand and artifacts (feature snapshots, domain distances, confusion matrices) on demand.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readLocalStore } from '../tracking/sync.js';
import { parseRunJson, type RunJsonFile, type RunJsonFiles } from '../tracking/run-files.js';
import { MlflowClient } from '../tracking/mlflow-client.js';
import { UserError, messages } from '../messages.js';

export interface Point {
  step: number;
  value: number;
}

export interface ReportRun {
  runId: string;
  experiment: string;
  runName: string;
  status: string;
  startTime: number;
  params: Record<string, string>;
  tags: Record<string, string>;
  /** Each metric's value at its largest step. */
  latest: Record<string, number>;
  history(key: string): Promise<Point[]>;
  /** An artifact's text, or null when the run has none by that path. */
  artifact(relativePath: string): Promise<string | null>;
}

/** One of the run's JSON files (../tracking/run-files.ts), or null when it has none or it is not JSON. */
export async function readRunJson<K extends RunJsonFile>(run: ReportRun, file: K): Promise<RunJsonFiles[K] | null> {
  return parseRunJson(file, await run.artifact(file));
}

export interface RunQuery {
  /** Tracking URI: file:PATH (or a bare folder) or http(s)://. */
  from: string;
  /** Experiment names; all experiments when empty. */
  experiments?: string[];
  /** KEY=V1|V2 filters on params (dotted config keys), tags or `run_id`; all must hold. */
  filters?: string[];
  /** Only runs whose parent is this run (a sweep's children). */
  parent?: string;
}

export interface LoadedRuns {
  runs: ReportRun[];
  /** Why runs were left out (not finished, no strategy tag, filtered), counted. */
  skipped: Record<string, number>;
}

function latestOf(points: { key: string; value: number; step: number; timestamp: number }[]): Record<string, number> {
  const best = new Map<string, { step: number; timestamp: number; value: number }>();
  for (const p of points) {
    const b = best.get(p.key);
    if (b == null || p.step > b.step || (p.step === b.step && p.timestamp >= b.timestamp)) best.set(p.key, p);
  }
  return Object.fromEntries([...best].map(([k, v]) => [k, v.value]));
}

export function parseFilters(filters: readonly string[]): { key: string; values: string[] }[] {
  return filters.map((f) => {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new UserError(messages.badRunFilter(f));
    return { key: f.slice(0, eq).trim(), values: f.slice(eq + 1).split('|').map((v) => v.trim()) };
  });
}

function matches(run: ReportRun, filters: { key: string; values: string[] }[]): boolean {
  return filters.every(({ key, values }) => {
    const value = key === 'run_id' ? run.runId : (run.params[key] ?? run.tags[key] ?? run.tags[`dalab.${key}`]);
    return value != null && values.includes(value);
  });
}

function select(all: ReportRun[], query: RunQuery): LoadedRuns {
  const filters = parseFilters(query.filters ?? []);
  const skipped: Record<string, number> = {};
  const count = (why: string) => (skipped[why] = (skipped[why] ?? 0) + 1);
  const runs: ReportRun[] = [];
  for (const run of all) {
    if (query.experiments != null && query.experiments.length > 0 && !query.experiments.includes(run.experiment)) continue;
    if (run.tags['dalab.adapter'] == null) {
      if (run.tags['dalab.sweep'] == null && !all.some((r) => r.tags['mlflow.parentRunId'] === run.runId)) count('not a dalab training run');
      continue;
    }
    if (query.parent != null && run.tags['mlflow.parentRunId'] !== query.parent) continue;
    if (!matches(run, filters)) {
      count('filtered out');
      continue;
    }
    if (run.status !== 'FINISHED') {
      count(`status ${run.status}`);
      continue;
    }
    runs.push(run);
  }
  runs.sort((a, b) => a.startTime - b.startTime);
  return { runs, skipped };
}

function fromFileStore(root: string): ReportRun[] {
  if (!fs.existsSync(root)) throw new UserError(messages.reportStoreMissing(root));
  return readLocalStore(root).map((local) => {
    const byKey = new Map<string, Point[]>();
    for (const m of local.metrics) {
      const list = byKey.get(m.key) ?? [];
      list.push({ step: m.step, value: m.value });
      byKey.set(m.key, list);
    }
    return {
      runId: local.runId,
      experiment: local.experimentName,
      runName: local.runName,
      status: local.status,
      startTime: local.startTime,
      params: local.params,
      tags: local.tags,
      latest: latestOf(local.metrics),
      history: async (key: string) => [...(byKey.get(key) ?? [])].sort((a, b) => a.step - b.step),
      artifact: async (rel: string) => {
        const file = path.join(local.dir, 'artifacts', ...rel.split('/'));
        return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
      },
    };
  });
}

async function fromServer(uri: string, experiments: string[] | undefined): Promise<ReportRun[]> {
  const client = new MlflowClient(uri);
  let known = await client.searchExperiments();
  if (experiments != null && experiments.length > 0) known = known.filter((e) => experiments.includes(e.name));
  if (known.length === 0) return [];
  const names = new Map(known.map((e) => [e.experiment_id, e.name]));
  const found = await client.searchRuns(
    known.map((e) => e.experiment_id),
    '',
    100_000,
  );
  return found.map((r) => {
    const kv = (list: { key: string; value: string }[] | undefined) => Object.fromEntries((list ?? []).map((x) => [x.key, x.value]));
    return {
      runId: r.info.run_id,
      experiment: names.get(r.info.experiment_id) ?? r.info.experiment_id,
      runName: r.info.run_name ?? '',
      status: r.info.status,
      startTime: r.info.start_time ?? 0,
      params: kv(r.data.params),
      tags: kv(r.data.tags),
      latest: Object.fromEntries((r.data.metrics ?? []).map((m) => [m.key, Number(m.value)])),
      history: async (key: string) => (await client.metricHistory(r.info.run_id, key)).map((m) => ({ step: Number(m.step), value: Number(m.value) })).sort((a, b) => a.step - b.step),
      artifact: (rel: string) => client.downloadArtifact(r.info.artifact_uri, rel),
    };
  });
}

export async function loadRuns(query: RunQuery): Promise<LoadedRuns> {
  const all = /^https?:\/\//.test(query.from) ? await fromServer(query.from, query.experiments) : fromFileStore(path.resolve(query.from.replace(/^file:(\/\/)?/, '')));
  return select(all, query);
}
