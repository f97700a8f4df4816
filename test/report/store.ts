/**
 * Offline stores for the report tests, written by dalab's own FileStoreTracker in MLflow's
 * file-store layout (the real format `dalab run` writes), with hand-chosen values.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import seedrandom from 'seedrandom';
import { FileStoreTracker } from '../../src/tracking/file-store.js';
import type { RunStatus } from '../../src/tracking/tracker.js';

export interface FixtureRun {
  adapter: string;
  seed: number;
  /** final/target_test_acc */
  acc: number;
  labels?: number | 'all';
  freeze?: number;
  status?: RunStatus;
  parentRunId?: string;
  /** target_test_acc at steps 100, 200, 300 (default: a ramp to acc). */
  curve?: number[];
  artifacts?: boolean;
}

export async function writeStore(root: string, experiment: string, runs: FixtureRun[]): Promise<string[]> {
  const tracker = new FileStoreTracker(`file:${root}`);
  const ids: string[] = [];
  for (const r of runs) {
    const run = await tracker.startRun({
      experiment,
      runName: `${experiment}-${r.adapter}-s${r.seed}`,
      ...(r.parentRunId != null ? { parentRunId: r.parentRunId } : {}),
      tags: { 'dalab.adapter': r.adapter, 'dalab.benchmark': 'synth-digits->mnist-10k', 'dalab.seed': String(r.seed) },
    });
    run.logParams({
      name: experiment,
      'source.dataset': 'synth-digits',
      'target.dataset': 'mnist-10k',
      'target.labels': String(r.labels ?? 0),
      'adapter.name': r.adapter,
      ...(r.freeze != null ? { 'adapter.freeze': String(r.freeze) } : {}),
      'train.seed': String(r.seed),
      'train.steps': '300',
    });
    const curve = r.curve ?? [r.acc - 0.2, r.acc - 0.05, r.acc];
    curve.forEach((v, i) => run.logMetric('target_test_acc', v, (i + 1) * 100));
    run.logMetric('final/target_test_acc', r.acc, 300);
    if (r.artifacts) writeArtifacts(run.artifactDir, `${r.adapter}/${r.seed}`, r.acc);
    await run.end(r.status ?? 'FINISHED');
    ids.push(run.runId);
  }
  return ids;
}

/** features/{start,end}.json, domain_distance.json, confusion_matrix.json as dalab run writes them. */
function writeArtifacts(dir: string, seed: string, acc: number): void {
  const rng = seedrandom(seed);
  const points = (n: number, shift: number) => {
    const labels = Array.from({ length: n }, (_, i) => i % 10);
    return { labels, features: labels.map((k) => Array.from({ length: 6 }, (_, d) => (d === k % 6 ? 3 : 0) + shift + rng() * 0.5)) };
  };
  fs.mkdirSync(path.join(dir, 'features'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'features', 'start.json'), JSON.stringify({ step: 0, layer: 'fc2', source: points(30, 0), target: points(30, 1) }));
  fs.writeFileSync(path.join(dir, 'features', 'end.json'), JSON.stringify({ step: 300, layer: 'fc2', source: points(30, 0), target: points(30, 0.2) }));
  fs.writeFileSync(
    path.join(dir, 'domain_distance.json'),
    JSON.stringify({ measure: 'mmd', sample: 200, layers: ['conv1', 'conv2', 'fc1', 'fc2'].map((layer, i) => ({ layer, start: 0.3 + 0.05 * i, end: 0.2 + 0.02 * i })) }),
  );
  const matrix = Array.from({ length: 10 }, (_, i) => Array.from({ length: 10 }, (_, j) => (i === j ? Math.round(20 * acc) : j === (i + 1) % 10 ? Math.round(20 * (1 - acc)) : 0)));
  fs.writeFileSync(path.join(dir, 'confusion_matrix.json'), JSON.stringify({ rows: 'true class', columns: 'predicted class', step: 300, matrix }));
}
