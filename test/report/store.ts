/**
 * Offline stores for the report tests, written by dalab's own FileStoreTracker in MLflow's
 * file-store layout (the real format `dalab run` writes) and the run files of
 * src/tracking/run-files.ts, with hand-chosen values.
 */
import seedrandom from 'seedrandom';
import { FileStoreTracker } from '../../src/tracking/file-store.js';
import { RUN_TAGS, writeRunJson, type FeatureSnapshotFile } from '../../src/tracking/run-files.js';
import type { RunStatus } from '../../src/tracking/tracker.js';
import type { TargetLabelUse } from '../../src/train/adapter.js';

/** What the strategies the fixtures use declare (adapters/*.ts), logged as dalab.family and dalab.target_labels. */
const STRATEGIES: Record<string, { family: string; targetLabels: TargetLabelUse }> = {
  source: { family: 'baseline', targetLabels: 'never' },
  target: { family: 'baseline', targetLabels: 'oracle' },
  joint: { family: 'baseline', targetLabels: 'required' },
  finetune: { family: 'fine-tuning', targetLabels: 'required' },
  dann: { family: 'alignment', targetLabels: 'optional' },
  mmd: { family: 'alignment', targetLabels: 'optional' },
  distill: { family: 'distillation', targetLabels: 'optional' },
};

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
  /** A run of a dalab before dalab.family and dalab.target_labels were logged: no such tags. */
  legacy?: boolean;
  /** The strategy's tags, for a strategy STRATEGIES does not list. */
  strategy?: { family: string; targetLabels: TargetLabelUse };
  /** The benchmark (default synth-digits->mnist-10k): tag and dataset params. */
  benchmark?: string;
  /** final/target_test_acc_oracle: the accuracy of the checkpoint chosen on labelled target val. */
  oracleAcc?: number;
  /** More params (strategy options, ...). */
  params?: Record<string, string>;
  /** The dalab.version tag (none by default). */
  version?: string;
}

function strategyTags(r: FixtureRun): Record<string, string> {
  if (r.legacy) return {};
  const s = r.strategy ?? STRATEGIES[r.adapter];
  if (s == null) throw new Error(`fixture strategy '${r.adapter}': give its family and target-label use`);
  return { [RUN_TAGS.family]: s.family, [RUN_TAGS.targetLabels]: s.targetLabels };
}

export async function writeStore(root: string, experiment: string, runs: FixtureRun[]): Promise<string[]> {
  const tracker = new FileStoreTracker(`file:${root}`);
  const ids: string[] = [];
  for (const r of runs) {
    const run = await tracker.startRun({
      experiment,
      runName: `${experiment}-${r.adapter}-s${r.seed}`,
      ...(r.parentRunId != null ? { parentRunId: r.parentRunId } : {}),
      tags: { 'dalab.adapter': r.adapter, 'dalab.benchmark': r.benchmark ?? 'synth-digits->mnist-10k', 'dalab.seed': String(r.seed), ...strategyTags(r), ...(r.version != null ? { 'dalab.version': r.version } : {}) },
    });
    const [sourceDataset, targetDataset] = (r.benchmark ?? 'synth-digits->mnist-10k').split('->');
    run.logParams({
      name: experiment,
      'source.dataset': sourceDataset!,
      'target.dataset': targetDataset!,
      'target.labels': String(r.labels ?? 0),
      'adapter.name': r.adapter,
      ...(r.freeze != null ? { 'adapter.freeze': String(r.freeze) } : {}),
      'train.seed': String(r.seed),
      'train.steps': '300',
      ...r.params,
    });
    const curve = r.curve ?? [r.acc - 0.2, r.acc - 0.05, r.acc];
    curve.forEach((v, i) => run.logMetric('target_test_acc', v, (i + 1) * 100));
    run.logMetric('final/target_test_acc', r.acc, 300);
    if (r.oracleAcc != null) {
      run.logParams({ 'select.by': 'entropy' });
      run.logMetric('final/target_test_acc_oracle', r.oracleAcc, 300);
    }
    if (r.artifacts) writeArtifacts(run.artifactDir, `${r.adapter}/${r.seed}`, r.acc);
    await run.end(r.status ?? 'FINISHED');
    ids.push(run.runId);
  }
  return ids;
}

/** features/{start,end}.json, domain_distance.json, confusion_matrix.json, gradient_norms.json as dalab run writes them. */
function writeArtifacts(dir: string, seed: string, acc: number): void {
  const rng = seedrandom(seed);
  const points = (n: number, shift: number) => {
    const labels = Array.from({ length: n }, (_, i) => i % 10);
    return { labels, features: labels.map((k) => Array.from({ length: 6 }, (_, d) => (d === k % 6 ? 3 : 0) + shift + rng() * 0.5)) };
  };
  const snapshot = (step: number, targetShift: number): FeatureSnapshotFile => ({ step, layer: 'fc2', source: points(30, 0), target: points(30, targetShift) });
  writeRunJson(dir, 'features/start.json', snapshot(0, 1));
  writeRunJson(dir, 'features/end.json', snapshot(300, 0.2));
  writeRunJson(dir, 'domain_distance.json', { measure: 'mmd', sample: 200, layers: ['conv1', 'conv2', 'fc1', 'fc2'].map((layer, i) => ({ layer, start: 0.3 + 0.05 * i, end: 0.2 + 0.02 * i })) });
  const matrix = Array.from({ length: 10 }, (_, i) => Array.from({ length: 10 }, (_, j) => (i === j ? Math.round(20 * acc) : j === (i + 1) % 10 ? Math.round(20 * (1 - acc)) : 0)));
  writeRunJson(dir, 'confusion_matrix.json', { rows: 'true class', columns: 'predicted class', step: 300, matrix });
  const blocks = ['conv1', 'conv2', 'fc1', 'fc2', 'head'];
  writeRunJson(dir, 'gradient_norms.json', { blocks, steps: [0, 100, 200].map((step) => ({ step, norms: Object.fromEntries(blocks.map((b, i) => [b, (0.1 + rng()) * 2 ** i])) })) });
}
