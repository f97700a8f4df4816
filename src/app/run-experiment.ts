/**
 * One experiment, end to end: config -> (backend, data, backbone, strategy, tracker) -> loop ->
 * tracker + checkpoint. Knows strategies, backbones and trackers only through the container.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { injectable, multiInject, inject } from 'inversify';
import * as tf from '@tensorflow/tfjs';
import YAML from 'yaml';
import { TYPES } from '../types.js';
import type { AdapterFactory, Adapter } from '../train/adapter.js';
import type { Backbone, BackboneFactory } from '../models/backbones.js';
import { diagnostics, fixedSample } from '../train/diagnostics.js';
import type { Tracker, TrackedRun } from '../tracking/tracker.js';
import type { ExperimentConfig } from '../config/schema.js';
import type { z } from 'zod';
import { configHash, describeIssue, flattenConfig } from '../config/load.js';
import { UserError, messages } from '../messages.js';
import { checkDatasetName, loadDataset } from '../data/datasets.js';
import { applyTask } from '../data/task.js';
import { makeSplits, makeTargetSplits, normalizeDomain } from '../data/splits.js';
import { fingerprint } from '../data/types.js';
import { runLoop, type LoopObserver } from '../train/loop.js';
import { saveModels } from '../train/checkpoint.js';
import { experimentName, trackingUri } from '../tracking/resolve.js';
import { DALAB_VERSION } from '../version.js';
import { loadPretrained, resolveModelFrom } from '../models/pretrained.js';
import { FileStoreTracker } from '../tracking/file-store.js';
import type { ProgressReporter } from './progress.js';
import { confusionFigure, learningCurveFigure } from '../report/figures.js';
import { writeFigure } from '../report/render.js';

export interface RunOptions {
  /** The experiment file, logged as an artifact. */
  file?: string;
  backend: string;
  progress: ProgressReporter;
  /** Makes this run a child of a sweep's parent run. */
  parentRunId?: string;
}

export interface RunSummary {
  runId: string;
  experiment: string;
  adapter: string;
  status: 'FINISHED' | 'FAILED';
  error?: string;
  backend: string;
  metrics: Record<string, number>;
  outDir: string;
}

function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return undefined;
  }
}

/** Thrown for a failure while training (exit 1), carrying the summary of the failed run. */
export class TrainingFailure extends Error {
  constructor(
    readonly summary: RunSummary,
    override readonly cause: unknown,
  ) {
    super(summary.error);
  }
}

/** The URI without user:password@ (credentials belong in MLFLOW_TRACKING_* variables, not in logs). */
export function redactUri(uri: string): string {
  return uri.replace(/^(https?:\/\/)[^@/]*@/, '$1');
}

/** Where `model.from` run ids are looked up: the offline store, when tracking writes one. */
function storeRootOf(tracker: Tracker): string | null {
  return tracker instanceof FileStoreTracker ? tracker.root : null;
}

@injectable()
export class ExperimentRunner {
  constructor(
    @multiInject(TYPES.AdapterFactory) private readonly adapters: AdapterFactory<never>[],
    @multiInject(TYPES.BackboneFactory) private readonly backbones: BackboneFactory[],
    @inject(TYPES.TrackerFactory) private readonly trackerFor: (uri: string) => Tracker,
  ) {}

  adapterNames(): string[] {
    return this.adapters.map((a) => a.name);
  }

  adapterFactories(): readonly AdapterFactory<never>[] {
    return this.adapters;
  }

  backboneFactories(): readonly BackboneFactory[] {
    return this.backbones;
  }

  /** Checks everything that can be checked without data or training (exit 2 on failure). */
  prepare(config: ExperimentConfig, origin: string): { factory: AdapterFactory<never>; options: never; backbone: BackboneFactory; tracker: Tracker } {
    const { name, ...rawOptions } = config.adapter;
    const factory = this.adapters.find((a) => a.name === name);
    if (factory == null) throw new UserError(messages.unknownAdapter(name, this.adapterNames()));
    const parsed = factory.options.safeParse(rawOptions);
    if (!parsed.success) {
      const { field, detail } = describeIssue(parsed.error.issues[0]!, factory.options as z.ZodType, ['adapter']);
      throw new UserError(messages.configField(origin, field, `${detail} for strategy '${name}'`));
    }
    if (factory.needs.targetLabels === 'required' && config.target.labels === 0) throw new UserError(messages.labelsNeedLabelledTarget(name));
    const backbone = this.backbones.find((b) => b.name === config.model.backbone);
    if (backbone == null) throw new UserError(messages.unknownBackbone(config.model.backbone, this.backbones.map((b) => b.name)));
    checkDatasetName(config.source.dataset, 'source.dataset');
    checkDatasetName(config.target.dataset, 'target.dataset');
    const tracker = this.trackerFor(trackingUri(config));
    if (config.model.from != null) resolveModelFrom(config.model.from, storeRootOf(tracker));
    return { factory, options: parsed.data as never, backbone, tracker };
  }

  async run(config: ExperimentConfig, options: RunOptions): Promise<RunSummary> {
    const origin = options.file ?? 'experiment';
    const { factory, options: adapterOptions, backbone: backboneFactory, tracker } = this.prepare(config, origin);
    const { progress } = options;

    progress.status(`loading ${config.source.dataset} -> ${config.target.dataset}`);
    const sourceData = applyTask(loadDataset(config.source.dataset, 'source.dataset'), config.source, 'source');
    const targetData = applyTask(loadDataset(config.target.dataset, 'target.dataset'), config.target, 'target');
    const source = normalizeDomain(makeSplits(sourceData, config.model.input), config.model.normalize);
    const target = normalizeDomain(makeTargetSplits(targetData, config.model.input, config.target.labels, config.train.seed), config.model.normalize);
    const numClasses = Math.max(source.numClasses, target.numClasses);
    // Loading data can take seconds of synchronous work: let timers run (a sweep worker whose sweep
    // died exits here, before it opens a run).
    await new Promise<void>((resolve) => setImmediate(resolve));

    const pretrained = config.model.from != null;
    const backbone = pretrained
      ? await loadPretrained(config.model.from!, storeRootOf(tracker))
      : backboneFactory.build({ input: config.model.input, numClasses, seed: config.train.seed });
    const adapter: Adapter = factory.create({ backbone, numClasses, targetLabels: config.target.labels, seed: config.train.seed, pretrained }, adapterOptions);

    const experiment = experimentName(config);
    const commit = gitCommit();
    const run = await tracker.startRun({
      experiment,
      ...(options.parentRunId != null ? { parentRunId: options.parentRunId } : {}),
      runName: `${config.name}-${factory.name}-s${config.train.seed}`,
      tags: {
        'dalab.adapter': factory.name,
        'dalab.benchmark': `${config.source.dataset}->${config.target.dataset}`,
        'dalab.seed': String(config.train.seed),
        'dalab.backend': options.backend,
        'dalab.config_hash': configHash(config),
        'dalab.version': DALAB_VERSION,
        'mlflow.source.name': options.file ?? 'dalab',
        'mlflow.source.type': 'LOCAL',
        ...(commit != null ? { 'mlflow.source.git.commit': commit } : {}),
        'dalab.data.source': `${source.name} train=${source.train.count} val=${source.val.count} test=${source.test.count}`,
        'dalab.data.target': `${target.name} train=${target.train.count} labelled=${target.labelled.count} val=${target.val.count} test=${target.test.count}`,
        'dalab.data.source_hash': `train:${fingerprint(source.train)} val:${fingerprint(source.val)} test:${fingerprint(source.test)}`,
        'dalab.data.target_hash': `train:${fingerprint(target.train)} labelled:${fingerprint(target.labelled)} val:${fingerprint(target.val)} test:${fingerprint(target.test)}`,
      },
    });
    const { sweep: _sweep, ...resolved } = config;
    // A tracking URI may carry credentials (https://user:token@host): never log them.
    if (resolved.tracking.uri != null) resolved.tracking = { ...resolved.tracking, uri: redactUri(resolved.tracking.uri) };
    run.logParams(flattenConfig(resolved));
    if (options.file != null) fs.copyFileSync(options.file, path.join(run.artifactDir, path.basename(options.file)));
    fs.writeFileSync(path.join(run.artifactDir, 'resolved-config.yaml'), YAML.stringify(resolved));

    const summary: RunSummary = { runId: run.runId, experiment, adapter: factory.name, status: 'FINISHED', backend: options.backend, metrics: {}, outDir: run.artifactDir };
    try {
      summary.metrics = await this.train(config, adapter, backbone, source, target, run, progress);
      await run.end('FINISHED');
      // A run that failed over to the offline store has a local id and folder now.
      summary.runId = run.runId;
      summary.outDir = run.artifactDir;
      return summary;
    } catch (error) {
      summary.status = 'FAILED';
      summary.error = error instanceof Error ? error.message : String(error);
      await run.end('FAILED').catch(() => undefined);
      summary.runId = run.runId;
      throw new TrainingFailure(summary, error);
    } finally {
      progress.stop();
      adapter.dispose();
    }
  }

  private async train(
    config: ExperimentConfig,
    adapter: Adapter,
    backbone: Backbone,
    source: ReturnType<typeof makeSplits>,
    target: ReturnType<typeof makeTargetSplits>,
    run: TrackedRun,
    progress: ProgressReporter,
  ): Promise<Record<string, number>> {
    progress.start(adapter.phases(config.train.steps).reduce((n, p) => n + p.steps, 0), `${adapter.name} ${config.source.dataset} -> ${config.target.dataset}`);
    const curve: { step: number; metrics: Record<string, number> }[] = [];
    const observer: LoopObserver = {
      onLosses: (step, terms) => {
        for (const [k, v] of Object.entries(terms)) run.logMetric(`loss/${k}`, v, step);
      },
      onEvaluation: (step, metrics) => {
        curve.push({ step, metrics });
        for (const [k, v] of Object.entries(metrics)) run.logMetric(k, v, step);
        void run.flush();
        progress.evaluation(step, metrics);
      },
      onMonitors: (step, values) => {
        for (const [k, v] of Object.entries(values)) run.logMetric(k, v, step);
      },
      onStep: (step, info) => progress.step(step, info),
    };
    const before = await diagnostics(backbone, source.test, target.test);
    const result = await runLoop(config, adapter, source, target, observer);
    progress.stop();
    const after = await diagnostics(backbone, source.test, target.test);
    fs.mkdirSync(path.join(run.artifactDir, 'features'), { recursive: true });
    fs.writeFileSync(path.join(run.artifactDir, 'features', 'start.json'), JSON.stringify({ step: 0, ...before.snapshot }));
    fs.writeFileSync(path.join(run.artifactDir, 'features', 'end.json'), JSON.stringify({ step: result.totalSteps, ...after.snapshot }));
    fs.writeFileSync(
      path.join(run.artifactDir, 'domain_distance.json'),
      JSON.stringify({ measure: 'mmd', sample: 200, layers: Object.keys(before.distances).map((layer) => ({ layer, start: before.distances[layer], end: after.distances[layer] })) }),
    );
    for (const [layer, value] of Object.entries(before.distances)) run.logMetric(`domain_mmd/${layer}`, value, 0);
    for (const [layer, value] of Object.entries(after.distances)) run.logMetric(`domain_mmd/${layer}`, value, result.totalSteps);

    await saveModels(adapter.checkpointModels(), path.join(run.artifactDir, 'checkpoint'));
    if (adapter.artifacts != null) {
      const samples = { source: fixedSample(source.test, 8).x, target: fixedSample(target.test, 8).x };
      const files = await adapter.artifacts(samples);
      tf.dispose([samples.source, samples.target]);
      for (const [name, bytes] of Object.entries(files)) fs.writeFileSync(path.join(run.artifactDir, name), bytes);
    }
    fs.writeFileSync(
      path.join(run.artifactDir, 'confusion_matrix.json'),
      JSON.stringify({ rows: 'true class', columns: 'predicted class', step: result.totalSteps, matrix: result.targetTestEvaluation.confusion }),
    );
    await this.writeRunFigures(run.artifactDir, adapter.name, curve, result.targetTestEvaluation.confusion, result.totalSteps);
    const final: Record<string, number> = {
      target_test_acc: result.selected['target_test_acc']!,
      target_test_acc_last: result.last['target_test_acc']!,
      target_test_acc_oracle: result.oracleTargetTestAcc,
      source_test_acc: result.selected['source_test_acc']!,
      source_val_acc: result.selected['source_val_acc']!,
      target_val_acc: result.selected['target_val_acc']!,
      target_test_ece: result.selected['target_test_ece']!,
      selected_step: result.selectedStep,
    };
    // Final metrics: logged at the last step under their own names, so the MLflow UI's run table shows them.
    for (const [k, v] of Object.entries(final)) run.logMetric(`final/${k}`, v, result.totalSteps);
    run.setTags({ 'dalab.selected_step': String(result.selectedStep), 'dalab.select_by': config.select.by });
    return final;
  }

  /** The run's own figures (artifacts figures/learning_curve.* and figures/confusion_matrix.*). */
  private async writeRunFigures(artifactDir: string, adapterName: string, curve: { step: number; metrics: Record<string, number> }[], confusion: number[][], totalSteps: number): Promise<void> {
    const dir = path.join(artifactDir, 'figures');
    const series: [string, string][] = [
      ['target_test_acc', 'target test'],
      ['target_val_acc', 'target val'],
      ['source_test_acc', 'source test'],
    ];
    const points = curve.flatMap(({ step, metrics }) =>
      series.map(([key, name]) => ({ benchmark: '', setting: '', method: name, step, mean: metrics[key]!, ciLow: NaN, ciHigh: NaN, n: 1 })),
    );
    const lc = learningCurveFigure(points, 'single', 'accuracy (%)', 'split');
    lc.name = 'learning_curve';
    lc.spec['title'] = { text: `Learning curve (${adapterName})`, subtitle: 'accuracy at each evaluation' };
    await writeFigure(lc, dir);
    const cells = confusion.flatMap((row, actual) => {
      const total = row.reduce((a, b) => a + b, 0);
      return row.map((count, predicted) => ({ method: adapterName, actual, predicted, count, rate: total > 0 ? count / total : 0 }));
    });
    await writeFigure(confusionFigure(cells, `${adapterName}, step ${totalSteps}`), dir);
  }
}
