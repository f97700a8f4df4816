/**
 * One experiment, end to end: config -> (backend, data, backbone, strategy, tracker) -> loop ->
 * tracker + checkpoint. Knows strategies, backbones, validators and trackers only through the
 * container. The config is validated once (src/config) and checked against what is bound once
 * (prepare); run() takes the prepared run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { injectable, multiInject, inject } from 'inversify';
import * as tf from '@tensorflow/tfjs';
import YAML from 'yaml';
import { TYPES } from '../types.js';
import type { AdapterFactory, Adapter, ConfiguredAdapter } from '../train/adapter.js';
import { backboneSpec, gradientBlocks, type Backbone, type BackboneFactory, type ConfiguredBackbone } from '../models/backbones.js';
import { diagnostics, fixedSample } from '../train/diagnostics.js';
import type { RunRecord, Tracker, TrackedRun } from '../tracking/tracker.js';
import type { ExperimentConfig } from '../config/schema.js';
import { configHash, flattenConfig } from '../config/load.js';
import { benchmarkName, domainName } from '../config/names.js';
import { UserError, messages } from '../messages.js';
import { DatasetRegistry } from '../data/registry.js';
import { applyTask } from '../data/task.js';
import { makeSplits, makeTargetSplits, normalizeDomain } from '../data/splits.js';
import { fingerprint } from '../data/types.js';
import { imagesOf } from '../data/batches.js';
import { DivergenceError, runLoop, StopRequested, type LoopObserver } from '../train/loop.js';
import { CheckpointError, readLatestCheckpoint, type LoadedCheckpoint } from '../train/resume.js';
import { saveModels } from '../models/checkpoint.js';
import type { Validator } from '../train/validators/validator.js';
import { checkpointDir, RUN_FILES, writeRunJson, type GradientNormsFile } from '../tracking/run-files.js';
import { writeRunFigures } from '../report/run-figures.js';
import { experimentName, trackingUri } from '../tracking/resolve.js';
import { checkFileStoreWritable } from '../tracking/file-store.js';
import { MlflowError, splitCredentials } from '../tracking/mlflow-client.js';
import { joinInside } from '../util/files.js';
import { DALAB_VERSION } from '../version.js';
import { loadPretrained, locateModel, withClasses, writeCheckpointMeta, type CheckpointMeta, type ModelLocation } from '../models/pretrained.js';
import { WeightsService } from './weights.js';
import type { ProgressReporter } from './progress.js';
import type { StopSignal } from './stop.js';

export interface RunOptions {
  /** The experiment file, logged as an artifact. */
  file?: string;
  backend: string;
  progress: ProgressReporter;
  /** Makes this run a child of a sweep's parent run. */
  parentRunId?: string;
  /** Continue this run (from resumeTarget) instead of starting one. */
  resume?: ResumeTarget;
  /** Set by a SIGTERM/SIGINT handler: the loop writes a checkpoint and the run ends KILLED. */
  stop?: StopSignal;
  /** The data, when the caller loaded it first (loadData); else run() loads it. */
  data?: ExperimentData;
  /** Called once the model is built, before the run is opened in the tracker (the CLI prints its header lines then). */
  onReady?(): void;
}

export interface ExperimentData {
  source: ReturnType<typeof makeSplits>;
  target: ReturnType<typeof makeTargetSplits>;
}

/** What `--resume` continues: an unfinished run of this configuration, with its last checkpoint (null: none written yet). */
export interface ResumeTarget {
  runId: string;
  checkpoint: LoadedCheckpoint | null;
  /** The highest step of each metric already in the tracker (never sent again). */
  logged: Record<string, number>;
}

export interface RunSummary {
  runId: string;
  experiment: string;
  adapter: string;
  status: 'FINISHED' | 'FAILED' | 'KILLED';
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

/** Builds the backbone; one that cannot be built at this input size is a UserError naming model.input. */
function buildForInput(factory: ConfiguredBackbone, input: ExperimentConfig['model']['input'], numClasses: number, seed: number): Backbone {
  try {
    return factory.build({ input, numClasses, seed });
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`model.input: backbone '${factory.factory.name}' cannot take [${input.join(', ')}] inputs (${(error as Error).message}); use a larger model.input`);
  }
}

/** Every layer of the encoder must output a non-empty map (strides and pools shrink small inputs to nothing). */
function checkOutputShapes(backbone: Backbone, name: string, input: readonly number[]): void {
  for (const layer of backbone.encoder.layers) {
    const shapes = (Array.isArray(layer.outputShape[0]) ? layer.outputShape : [layer.outputShape]) as (number | null)[][];
    for (const shape of shapes) {
      if (shape.some((d) => d != null && d <= 0)) {
        throw new UserError(`model.input: backbone '${name}' cannot take [${input.join(', ')}] inputs: layer '${layer.name}' would output [${shape.map((d) => d ?? 'N').join(', ')}]; use a larger model.input`);
      }
    }
  }
}

/** The summary of a FINISHED run as the tracker holds it (`--resume` of a finished run). */
function summaryOfRecord(record: RunRecord, experiment: string, outDir: string): RunSummary {
  const metrics: Record<string, number> = {};
  for (const [key, { value }] of Object.entries(record.metrics)) if (key.startsWith('final/')) metrics[key.slice('final/'.length)] = value;
  return { runId: record.runId, experiment, adapter: record.tags['dalab.adapter'] ?? '', status: 'FINISHED', backend: record.tags['dalab.backend'] ?? '', metrics, outDir };
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
  return splitCredentials(uri).uri;
}

/** A message with every URI's user:password@ removed. */
export function redactText(text: string): string {
  return text.replace(/(https?:\/\/)[^@/\s]*@/g, '$1');
}

/** An experiment checked against what is bound (strategy and its options, backbone, validator, datasets, tracker, model.from). */
export interface PreparedRun {
  readonly config: ExperimentConfig;
  /** Where the config came from (the file), for messages. */
  readonly origin: string;
  readonly adapter: ConfiguredAdapter;
  readonly backbone: ConfiguredBackbone;
  readonly tracker: Tracker;
  /** `model.from`, located on disk (a run id resolved through the tracker). */
  readonly modelFrom: ModelLocation | null;
}

/** The options written in `model.backbone` (none for a plain name). */
function rawBackboneOptions(value: ExperimentConfig['model']['backbone']): Record<string, unknown> {
  return backboneSpec(value).options;
}

@injectable()
export class ExperimentRunner {
  constructor(
    @multiInject(TYPES.AdapterFactory) private readonly adapters: AdapterFactory[],
    @multiInject(TYPES.BackboneFactory) private readonly backbones: BackboneFactory[],
    @inject(TYPES.TrackerFactory) private readonly trackerFor: (uri: string) => Tracker,
    @multiInject(TYPES.Validator) private readonly validators: Validator[],
    @inject(DatasetRegistry) private readonly datasets: DatasetRegistry,
    @inject(WeightsService) private readonly weights: WeightsService,
  ) {}

  adapterNames(): string[] {
    return this.adapters.map((a) => a.name);
  }

  adapterFactories(): readonly AdapterFactory[] {
    return this.adapters;
  }

  backboneFactories(): readonly BackboneFactory[] {
    return this.backbones;
  }

  /** Checks everything that can be checked without data or training (exit 2 on failure). */
  async prepare(config: ExperimentConfig, origin: string): Promise<PreparedRun> {
    const { name, ...rawOptions } = config.adapter;
    const factory = this.adapters.find((a) => a.name === name);
    if (factory == null) throw new UserError(messages.unknownAdapter(name, this.adapterNames()));
    const adapter = factory.configure(rawOptions, origin);
    if (factory.needs.targetLabels === 'required' && config.target.labels === 0) throw new UserError(messages.labelsNeedLabelledTarget(name));
    let backbone = this.configureBackbone(config.model.backbone, origin);
    if (!this.validators.some((v) => v.name === config.select.by)) throw new UserError(messages.unknownValidator(config.select.by, this.validators.map((v) => v.name)));
    this.datasets.check(config.source.dataset, 'source.dataset');
    this.datasets.check(config.target.dataset, 'target.dataset');
    const uri = trackingUri(config);
    if (uri.startsWith('file:')) checkFileStoreWritable(uri);
    const tracker = this.trackerFor(uri);
    await this.checkTracker(tracker, config);
    const modelFrom = config.model.from == null ? null : await this.locateModelFrom(config.model.from, tracker);
    if (modelFrom?.kind === 'torch') {
      // A torchvision file: model.backbone names the architecture, at torchvision's configuration.
      const spec = this.weights.torchvisionSpec(backbone.factory.name, rawBackboneOptions(config.model.backbone));
      const { name: _name, ...options } = spec;
      backbone = backbone.factory.configure(options, origin);
    }
    return { config, origin, adapter, backbone, tracker, modelFrom };
  }

  /**
   * An MLflow server must answer before anything runs: wrong credentials (401/403) exit 2, and so
   * does no answer at all (most often a typo in the URI) unless `tracking.fallback: offline`.
   */
  private async checkTracker(tracker: Tracker, config: ExperimentConfig): Promise<void> {
    if (tracker.check == null) return;
    try {
      await tracker.check();
    } catch (error) {
      const status = error instanceof MlflowError ? error.status : undefined;
      const shown = redactUri(tracker.uri);
      if (status === 401 || status === 403) throw new UserError(messages.trackingRefused(shown, status));
      if (config.tracking.fallback === 'offline') return;
      throw new UserError(messages.trackingUnreachable(shown, status != null ? `HTTP ${status}` : redactText((error as Error).message)));
    }
  }

  /** `model.backbone` (a name, or a name with options) against the bound backbones. */
  configureBackbone(value: ExperimentConfig['model']['backbone'], origin: string): ConfiguredBackbone {
    const { name, options } = backboneSpec(value);
    const factory = this.backbones.find((b) => b.name === name);
    if (factory == null) throw new UserError(messages.unknownBackbone(name, this.backbones.map((b) => b.name)));
    return factory.configure(options, origin);
  }

  /** `model.from`: a run id of the tracking store (its checkpoint), else a folder or file. */
  private async locateModelFrom(from: string, tracker: Tracker): Promise<ModelLocation> {
    if (/^[0-9a-f]{32}$/.test(from)) {
      const folder = await tracker.checkpointOf(from);
      if (folder != null) return locateModel(folder, from);
    }
    return locateModel(from);
  }

  /**
   * The backbone `model.from` holds, at the experiment's input shape, with a fresh head when the
   * class count differs: a checkpoint that records its backbone (dalab-checkpoint.json) is that
   * backbone with its blocks; a torchvision file is imported onto model.backbone.
   */
  private async startFrom(prepared: PreparedRun, numClasses: number): Promise<{ backbone: Backbone; spec: CheckpointMeta['backbone'] | null }> {
    const { config } = prepared;
    const from = prepared.modelFrom!;
    const seed = config.train.seed;
    if (from.kind === 'torch') {
      const spec = { name: prepared.backbone.factory.name, ...prepared.backbone.options };
      const imported = this.weights.fromStateDict(from.location, spec, config.model.input);
      return { backbone: withClasses(imported.backbone, numClasses, seed), spec };
    }
    let spec: CheckpointMeta['backbone'] | null = null;
    const loaded = await loadPretrained(from, config.model.from!, (recorded, _input, classes) => {
      spec = recorded;
      return this.weights.build(recorded, config.model.input, classes, seed);
    });
    return { backbone: withClasses(loaded, numClasses, seed), spec };
  }

  /**
   * `--resume [RUN_ID]`: the run to continue (without RUN_ID the most recent run of this resolved
   * configuration, by `dalab.config_hash`), or the summary of a FINISHED one. Exit 2 (UserError)
   * when there is none, when RUN_ID belongs to another configuration, or when its checkpoint was
   * written by another dalab version. Nothing is written to the tracker here.
   */
  async resumeTarget(prepared: PreparedRun, runId?: string): Promise<{ finished: RunSummary } | { target: ResumeTarget }> {
    const { config, tracker } = prepared;
    const hash = configHash(config);
    const experiment = experimentName(config);
    const where = redactUri(tracker.uri);
    let record: RunRecord | null;
    if (runId != null) {
      record = await tracker.getRun(runId);
      if (record == null) throw new UserError(`--resume ${runId}: no such run in ${where}`);
      const theirs = record.tags['dalab.config_hash'];
      if (theirs !== hash) throw new UserError(`--resume ${runId}: that run has another configuration (config hash ${theirs ?? 'none'}; ${prepared.origin} with these --set values has ${hash})`);
    } else {
      const runs = (await tracker.findRuns(experiment, { 'dalab.config_hash': hash })).sort((a, b) => (b.startTime ?? 0) - (a.startTime ?? 0));
      if (runs.length === 0) throw new UserError(`--resume: no run of this configuration (config hash ${hash}) in experiment '${experiment}' at ${where}`);
      record = await tracker.getRun(runs[0]!.runId);
      if (record == null) throw new UserError(`--resume: run ${runs[0]!.runId} could not be read from ${where}`);
    }
    const dirs = await tracker.localDirsOf(record.runId);
    if (record.status === 'FINISHED') return { finished: summaryOfRecord(record, experiment, dirs?.artifactDir ?? '') };
    let checkpoint: LoadedCheckpoint | null = null;
    try {
      checkpoint = dirs == null ? null : readLatestCheckpoint(dirs.stateDir, DALAB_VERSION);
    } catch (error) {
      if (error instanceof CheckpointError) throw new UserError(`--resume ${record.runId}: ${error.message}`);
      throw error;
    }
    const logged: Record<string, number> = {};
    for (const [key, { step }] of Object.entries(record.metrics)) logged[key] = step;
    return { target: { runId: record.runId, checkpoint, logged } };
  }

  /**
   * The experiment's data, read and checked: source and target splits at the model's input. A bad
   * file or a label outside the source's classes is a UserError naming the field (exit 2); the CLI
   * loads the data before it prints anything, so such an error is the only line.
   */
  loadData(prepared: PreparedRun): ExperimentData {
    const { config } = prepared;
    const sourceData = applyTask(this.datasets.load(config.source.dataset, 'source.dataset'), config.source, 'source');
    const targetData = applyTask(this.datasets.load(config.target.dataset, 'target.dataset'), config.target, 'target');
    // One label space, the source's: a target label beyond it cannot be predicted (often labels 1-10 for 0-9).
    if (targetData.numClasses > sourceData.numClasses) {
      throw new UserError(
        `target.dataset: ${targetData.name} has label ${targetData.numClasses - 1}, outside the source's ${sourceData.numClasses} classes (0-${sourceData.numClasses - 1} in ${sourceData.name}); choose or map classes with target.classes / target.relabel`,
      );
    }
    const source = normalizeDomain(makeSplits(sourceData, config.model.input), config.model.normalize);
    const target = normalizeDomain(makeTargetSplits(targetData, config.model.input, config.target.labels, config.train.seed, config.target.priors), config.model.normalize);
    return { source, target };
  }

  async run(prepared: PreparedRun, options: RunOptions): Promise<RunSummary> {
    const { config, tracker, backbone: backboneFactory } = prepared;
    const factory = prepared.adapter.factory;
    const { progress } = options;

    if (options.data == null) progress.status(`loading ${domainName(config.source)} -> ${domainName(config.target)}`);
    const { source, target } = options.data ?? this.loadData(prepared);
    const numClasses = Math.max(source.numClasses, target.numClasses);
    // Loading data can take seconds of synchronous work: let timers run (a sweep worker whose sweep
    // died exits here, before it opens a run).
    await new Promise<void>((resolve) => setImmediate(resolve));

    const pretrained = prepared.modelFrom != null;
    const { backbone, spec } = prepared.modelFrom != null
      ? await this.startFrom(prepared, numClasses)
      : { backbone: buildForInput(backboneFactory, config.model.input, numClasses, config.train.seed), spec: { name: backboneFactory.factory.name, ...backboneFactory.options } };
    checkOutputShapes(backbone, backboneFactory.factory.name, config.model.input);
    // The target pool's images without labels (SHOT's centroids read them; no strategy sees its labels).
    const targetPool = { count: target.train.count, batches: (size: number) => imagesOf(target.train, size) };
    const adapter: Adapter = prepared.adapter.create({ backbone, numClasses, targetLabels: config.target.labels, seed: config.train.seed, pretrained, targetPool });
    options.onReady?.();

    const experiment = experimentName(config);
    const commit = gitCommit();
    const resume = options.resume;
    const run = resume != null ? await tracker.reopenRun(resume.runId) : await tracker.startRun({
      experiment,
      ...(options.parentRunId != null ? { parentRunId: options.parentRunId } : {}),
      runName: `${config.name}-${factory.name}-s${config.train.seed}`,
      tags: {
        'dalab.adapter': factory.name,
        // What the report reads to tell the lower bound (baseline, never) and the oracle (baseline, oracle).
        'dalab.family': factory.family,
        'dalab.target_labels': factory.needs.targetLabels,
        'dalab.benchmark': benchmarkName(config),
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
    if (resume != null) {
      const from = resume.checkpoint?.record.step ?? 0;
      progress.status(`resuming run ${run.runId} from step ${from}${resume.checkpoint == null ? ' (no checkpoint yet: from the start, metric steps already logged are not sent again)' : ''}`);
      const earlier = (await tracker.getRun(run.runId))?.tags['dalab.resumed_from_step'];
      run.setTags({ 'dalab.resumed_from_step': earlier != null ? `${earlier},${from}` : String(from) });
    }
    // The resolved config with the strategy's options as it parsed them (its defaults filled in).
    const { sweep: _sweep, reference: _reference, ...withoutSweep } = config;
    const backboneOptions = prepared.backbone.options;
    const resolved = {
      ...withoutSweep,
      // A backbone with options is logged with all of them (model.backbone.depth, ...); a plain name stays a name.
      model: { ...withoutSweep.model, backbone: Object.keys(backboneOptions).length > 0 ? { name: prepared.backbone.factory.name, ...backboneOptions } : withoutSweep.model.backbone },
      adapter: { ...withoutSweep.adapter, ...prepared.adapter.options, name: config.adapter.name },
    };
    // A tracking URI may carry credentials (https://user:token@host): never log them.
    if (resolved.tracking.uri != null) resolved.tracking = { ...resolved.tracking, uri: redactUri(resolved.tracking.uri) };
    if (resume == null) run.logParams(flattenConfig(resolved));
    // The experiment file as written, except credentials in a URI (https://user:token@host).
    if (options.file != null && resume == null) fs.writeFileSync(path.join(run.artifactDir, path.basename(options.file)), redactText(fs.readFileSync(options.file, 'utf8')));
    fs.writeFileSync(path.join(run.artifactDir, RUN_FILES.resolvedConfig), YAML.stringify(resolved));

    const summary: RunSummary = { runId: run.runId, experiment, adapter: factory.name, status: 'FINISHED', backend: options.backend, metrics: {}, outDir: run.artifactDir };
    try {
      summary.metrics = await this.train(config, adapter, backbone, source, target, run, progress, spec, options);
      // Finished: the resume checkpoints are no longer needed (the checkpoint/ artifact holds the weights).
      fs.rmSync(run.stateDir, { recursive: true, force: true });
      await run.end('FINISHED');
      // A run that failed over to the offline store has a local id and folder now.
      summary.runId = run.runId;
      summary.outDir = run.artifactDir;
      return summary;
    } catch (error) {
      if (error instanceof StopRequested) {
        summary.status = 'KILLED';
        summary.error = `stopped by ${options.stop?.signal ?? 'a signal'} at step ${error.step}; checkpoint written (${error.file})`;
        await run.end('KILLED').catch(() => undefined);
        summary.runId = run.runId;
        throw new TrainingFailure(summary, error);
      }
      summary.status = 'FAILED';
      summary.error = error instanceof Error ? error.message : String(error);
      if (error instanceof DivergenceError) run.setTags({ 'dalab.diverged_step': String(error.step), 'dalab.diverged_term': error.term });
      // Emscripten's abort() says nothing; on the wasm backend it is nearly always its 4 GB heap.
      if (options.backend === 'wasm' && summary.error.startsWith('Aborted()')) summary.error = messages.wasmAborted();
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
    spec: CheckpointMeta['backbone'] | null,
    options: RunOptions,
  ): Promise<Record<string, number>> {
    progress.start(adapter.phases(config.train.steps).reduce((n, p) => n + p.steps, 0), `${adapter.name} ${domainName(config.source)} -> ${domainName(config.target)}`);
    // What the figures and artifacts need besides the tracker's metrics; saved in every resume checkpoint.
    interface Extra {
      curve: { step: number; metrics: Record<string, number> }[];
      gradNorms: GradientNormsFile['steps'];
      before: Awaited<ReturnType<typeof diagnostics>>;
    }
    const resume = options.resume;
    const saved = (resume?.checkpoint?.record.extra ?? null) as Extra | null;
    const curve: Extra['curve'] = saved?.curve ?? [];
    const gradNorms: Extra['gradNorms'] = saved?.gradNorms ?? [];
    const blocks = gradientBlocks(backbone);
    // A resumed run never sends a metric step the tracker already holds (MLflow cannot delete one).
    const logged = resume?.logged ?? {};
    const log = (key: string, value: number, step: number) => {
      const done = logged[key];
      if (done == null || step > done) run.logMetric(key, value, step);
    };
    const observer: LoopObserver = {
      onLosses: (step, terms) => {
        for (const [k, v] of Object.entries(terms)) log(`loss/${k}`, v, step);
      },
      onEvaluation: (step, metrics) => {
        curve.push({ step, metrics });
        for (const [k, v] of Object.entries(metrics)) log(k, v, step);
        void run.flush();
        progress.evaluation(step, metrics);
      },
      onGradNorms: (step, norms) => {
        gradNorms.push({ step, norms });
        for (const [k, v] of Object.entries(norms)) log(`grad_norm/${k}`, v, step);
      },
      onMonitors: (step, values) => {
        for (const [k, v] of Object.entries(values)) log(k, v, step);
      },
      onStep: (step, info) => progress.step(step, info),
    };
    const before = saved?.before ?? (await diagnostics(backbone, source.test, target.test));
    const result = await runLoop(config, adapter, source, target, {
      observer,
      validators: this.validators,
      gradientBlocks: blocks,
      checkpoints: {
        dir: run.stateDir,
        ...(config.train.checkpointEvery != null ? { every: config.train.checkpointEvery } : {}),
        version: DALAB_VERSION,
        extra: (): Extra => ({ curve, gradNorms, before }),
        from: resume?.checkpoint ?? null,
        stopRequested: () => options.stop?.signal != null,
        // Every metric up to a checkpoint reaches the tracker before it (a resumed run starts after it).
        beforeCheckpoint: () => run.flush(),
      },
    });
    progress.stop();
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
    for (const [k, v] of Object.entries(final)) log(`final/${k}`, v, result.totalSteps);
    // Source-free strategies (shot): source batches drawn after the source phase, counted where batches are drawn; must be 0.
    if (adapter.sourceFree === true) log('source_batches_after_source_phase', result.sourceBatchesAfterSourcePhase, result.totalSteps);
    run.setTags({ 'dalab.selected_step': String(result.selectedStep), 'dalab.select_by': config.select.by });

    // The measurement is complete: a failure writing any artifact below leaves the run FINISHED,
    // tagged with what is missing (dalab.artifacts_missing), and prints one warning line.
    const missing: string[] = [];
    const attempt = async (what: string, write: () => unknown): Promise<void> => {
      try {
        if (process.env['DALAB_TEST_FAIL_ARTIFACT'] === what) throw new Error(`DALAB_TEST_FAIL_ARTIFACT=${what}`);
        await write();
      } catch (error) {
        missing.push(what);
        progress.status(`dalab: warning: ${what} could not be written (${error instanceof Error ? error.message : String(error)}); the run's metrics are complete`);
      }
    };
    await attempt('diagnostics', async () => {
      const after = await diagnostics(backbone, source.test, target.test);
      writeRunJson(run.artifactDir, 'features/start.json', { step: 0, ...before.snapshot });
      writeRunJson(run.artifactDir, 'features/end.json', { step: result.totalSteps, ...after.snapshot });
      writeRunJson(run.artifactDir, 'domain_distance.json', {
        measure: 'mmd',
        sample: 200,
        layers: Object.keys(before.distances).map((layer) => ({ layer, start: before.distances[layer]!, end: after.distances[layer]! })),
      });
      for (const [layer, value] of Object.entries(before.distances)) log(`domain_mmd/${layer}`, value, 0);
      for (const [layer, value] of Object.entries(after.distances)) log(`domain_mmd/${layer}`, value, result.totalSteps);
    });
    if (gradNorms.length > 0) {
      await attempt('gradient_norms', () => writeRunJson(run.artifactDir, 'gradient_norms.json', { blocks: blocks.map((b) => b.name).filter((b) => gradNorms.some((g) => b in g.norms)), steps: gradNorms }));
    }
    await attempt('checkpoint', async () => {
      await saveModels(adapter.checkpointModels(), checkpointDir(run.artifactDir));
      // What `model.from`, `dalab predict` and `dalab eval` need to rebuild it (not for a backbone
      // loaded without a record: its architecture is not a bound backbone).
      if (spec != null) {
        const classes = (backbone.classifier.outputs[0]!.shape as number[]).at(-1)!;
        writeCheckpointMeta(checkpointDir(run.artifactDir), { format: 'dalab-checkpoint', dalab: DALAB_VERSION, backbone: spec, input: config.model.input, numClasses: classes, normalize: config.model.normalize });
      }
    });
    if (adapter.artifacts != null) {
      await attempt('strategy artifacts', async () => {
        const samples = { source: fixedSample(source.test, 8).x, target: fixedSample(target.test, 8).x };
        try {
          const files = await adapter.artifacts!(samples);
          for (const [name, bytes] of Object.entries(files)) {
            const file = joinInside(run.artifactDir, name, 'artifact');
            fs.mkdirSync(path.dirname(file), { recursive: true });
            fs.writeFileSync(file, bytes);
          }
        } finally {
          tf.dispose([samples.source, samples.target]);
        }
      });
    }
    await attempt('confusion_matrix', () => writeRunJson(run.artifactDir, 'confusion_matrix.json', { rows: 'true class', columns: 'predicted class', step: result.totalSteps, matrix: result.targetTestEvaluation.confusion }));
    await attempt('figures', () => writeRunFigures(run.artifactDir, { adapterName: adapter.name, curve, confusion: result.targetTestEvaluation.confusion, totalSteps: result.totalSteps }));
    if (missing.length > 0) run.setTags({ 'dalab.artifacts_missing': missing.join(', ') });
    return final;
  }
}
