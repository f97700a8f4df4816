/**
 * `dalab sync LOCAL_STORE --to URI`: replays the runs of an offline store (MLflow file-store
 * layout) into an MLflow server: params, metrics with their original steps and timestamps, tags,
 * artifacts, start/end times, status, and parent/child links (parents first, ids mapped).
 * Idempotent: every delivered run carries `dalab.local_run_id`; a run already on the server is
 * skipped. A partial run that a failed-over run left on the server (`dalab.server_run_id`) is
 * deleted once the complete copy is delivered.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeFileStoreKey, listFiles, readMeta } from './file-store.js';
import { checkStaysInside } from '../util/files.js';
import { UserError } from '../messages.js';
import { MlflowClient, type MlflowMetric } from './mlflow-client.js';

const STATUS_NAMES: Record<string, string> = { '1': 'RUNNING', '2': 'SCHEDULED', '3': 'FINISHED', '4': 'FAILED', '5': 'KILLED' };

export interface LocalRun {
  runId: string;
  experimentName: string;
  dir: string;
  status: string;
  startTime: number;
  endTime: number | null;
  runName: string;
  params: Record<string, string>;
  tags: Record<string, string>;
  metrics: MlflowMetric[];
}

function readTree(dir: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  if (!fs.existsSync(dir)) return out;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const key = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) Object.assign(out, readTree(path.join(dir, entry.name), key));
    else out[key] = fs.readFileSync(path.join(dir, entry.name), 'utf8');
  }
  return out;
}

export function readLocalStore(root: string): LocalRun[] {
  const runs: LocalRun[] = [];
  for (const experiment of fs.readdirSync(root, { withFileTypes: true })) {
    const expDir = path.join(root, experiment.name);
    if (!experiment.isDirectory() || !fs.existsSync(path.join(expDir, 'meta.yaml'))) continue;
    const expMeta = readMeta(path.join(expDir, 'meta.yaml'));
    if (expMeta['lifecycle_stage'] === 'deleted') continue;
    for (const entry of fs.readdirSync(expDir, { withFileTypes: true })) {
      const runDir = path.join(expDir, entry.name);
      if (!entry.isDirectory() || !fs.existsSync(path.join(runDir, 'meta.yaml'))) continue;
      const meta = readMeta(path.join(runDir, 'meta.yaml'));
      if (meta['lifecycle_stage'] === 'deleted') continue;
      const metrics: MlflowMetric[] = [];
      for (const [file, text] of Object.entries(readTree(path.join(runDir, 'metrics')))) {
        const key = decodeFileStoreKey(file);
        for (const line of text.split('\n')) {
          const [timestamp, value, step] = line.trim().split(' ');
          if (timestamp == null || value == null || timestamp === '') continue;
          metrics.push({ key, value: value === 'nan' ? NaN : Number(value), timestamp: Number(timestamp), step: Number(step ?? 0) });
        }
      }
      runs.push({
        runId: meta['run_id'] ?? entry.name,
        experimentName: expMeta['name'] ?? experiment.name,
        dir: runDir,
        status: STATUS_NAMES[meta['status'] ?? '3'] ?? 'FINISHED',
        startTime: Number(meta['start_time']),
        endTime: meta['end_time'] != null && meta['end_time'] !== 'null' ? Number(meta['end_time']) : null,
        runName: meta['run_name'] ?? '',
        params: readTree(path.join(runDir, 'params')),
        tags: readTree(path.join(runDir, 'tags')),
        metrics,
      });
    }
  }
  // Parents before children, so their server ids exist when children link to them.
  return runs.sort((a, b) => Number(a.tags['mlflow.parentRunId'] != null) - Number(b.tags['mlflow.parentRunId'] != null) || a.startTime - b.startTime);
}

export interface SyncResult {
  delivered: { localRunId: string; serverRunId: string; metrics: number }[];
  skipped: string[];
}

export async function syncStore(root: string, client: MlflowClient, onRun?: (message: string) => void): Promise<SyncResult> {
  const runs = readLocalStore(root);
  const result: SyncResult = { delivered: [], skipped: [] };
  const serverIds = new Map<string, string>();
  const experimentIds = new Map<string, string>();
  for (const run of runs) {
    let experimentId = experimentIds.get(run.experimentName);
    if (experimentId == null) {
      experimentId = await client.experimentId(run.experimentName);
      experimentIds.set(run.experimentName, experimentId);
    }
    const existing = await client.searchRuns([experimentId], `tags."dalab.local_run_id" = '${run.runId}'`, 1);
    if (existing.length > 0) {
      serverIds.set(run.runId, existing[0]!.info.run_id);
      result.skipped.push(run.runId);
      onRun?.(`skip ${run.runId} (already on the server as ${existing[0]!.info.run_id})`);
      continue;
    }
    const tags: Record<string, string> = { ...run.tags, 'dalab.local_run_id': run.runId };
    const parent = tags['mlflow.parentRunId'];
    if (parent != null && serverIds.has(parent)) tags['mlflow.parentRunId'] = serverIds.get(parent)!;
    // Before anything of this run reaches the server: no artifact may lead outside its folder.
    const artifactDir = path.join(run.dir, 'artifacts');
    const artifacts = listFiles(artifactDir);
    for (const rel of artifacts) {
      try {
        checkStaysInside(artifactDir, rel, 'artifact');
      } catch (error) {
        throw new UserError(`sync: run ${run.runId}: ${(error as Error).message}; nothing of this run was delivered`);
      }
    }
    const info = await client.createRun(experimentId, run.runName, Object.entries(tags).map(([key, value]) => ({ key, value })), run.startTime);
    await client.logBatch(info.run_id, { params: Object.entries(run.params).map(([key, value]) => ({ key, value })), metrics: run.metrics });
    for (const rel of artifacts) await client.uploadArtifact(info.artifact_uri, rel, fs.readFileSync(path.join(artifactDir, rel)));
    await client.updateRun(info.run_id, run.status, run.endTime ?? undefined);
    const partial = run.tags['dalab.server_run_id'];
    if (partial != null) await client.deleteRun(partial).catch(() => undefined);
    serverIds.set(run.runId, info.run_id);
    result.delivered.push({ localRunId: run.runId, serverRunId: info.run_id, metrics: run.metrics.length });
    onRun?.(`delivered ${run.runId} -> ${info.run_id} (${run.metrics.length} metric values)`);
  }
  return result;
}
