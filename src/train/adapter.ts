/**
 * The strategy contract. Naming: users choose a *strategy* (the word of the CLI, the experiment
 * file's `adapter.name` values, the README and every message); code calls the same thing an
 * *adapter* (this module, adapters/*.ts, AdapterFactory), as pytorch-adapt does. Nothing else is
 * meant by either word.
 *
 * A strategy (adapters/*.ts) declares which batches it needs and returns a
 * named record of scalar loss terms; the loop weights, sums, minimises and logs every term without
 * knowing the strategy. A strategy never sees the tracker.
 */
import * as tf from '@tensorflow/tfjs';
import type { z } from 'zod';
import type { Batch } from '../data/batches.js';
import type { Backbone } from '../models/backbones.js';
import { crossEntropy } from '../losses/classification.js';
import { entropyLoss } from '../losses/confusion.js';
import { parseOptions } from '../config/load.js';
import { UserError, messages } from '../messages.js';

export interface TrainBatch {
  /** Labelled source images. */
  source?: Batch;
  /** Target images from the train pool, labels withheld. */
  target?: tf.Tensor4D;
  /** The labelled target subset (`target.labels`). */
  targetLabelled?: Batch;
  /** Each target image's index in the target train pool (pseudo-labels kept per image). */
  targetIndices?: Int32Array;
  /** What the phase's prepare() computed for this step, outside the gradient scope. */
  prepared?: Record<string, tf.Tensor>;
}

/**
 * How a strategy uses target labels:
 * - 'never': it must not see them (`source`);
 * - 'optional': when `target.labels > 0` the loop supplies them and the strategy adds `cls_target`;
 * - 'required': `target.labels: 0` is a config error;
 * - 'oracle': the labelled subset, or the whole labelled pool when `target.labels` is 0.
 */
export type TargetLabelUse = 'never' | 'optional' | 'required' | 'oracle';

export interface AdapterNeeds {
  source: boolean;
  targetUnlabelled: boolean;
  targetLabels: TargetLabelUse;
}

export type LossTerms = Record<string, tf.Scalar>;

/** Records a scalar that is watched, not minimised (e.g. `domain_acc`); logged under its name. */
export type Monitor = (name: string, value: tf.Scalar) => void;

/**
 * A group of variables trained with the phase's learning rate times `lrScale`. Groups with the same
 * `key` share one optimiser (its moments), also across the sub-steps of a phase (MCD's classifiers
 * are updated in two sub-steps with one Adam state, as in the paper's code); without a key each
 * group of each sub-step has its own.
 */
export interface VariableGroup {
  variables: tf.Variable[];
  lrScale: number;
  key?: string;
  /** Adam's beta1 for this group (default 0.9; adversarial games often use 0.5). Ignored by momentum SGD. */
  beta1?: number;
}

/** One gradient update: the variables it changes, its named loss terms and their weights. */
export interface Update {
  /** Variables the optimiser updates, with per-group learning-rate scales. */
  variableGroups(): VariableGroup[];
  /** Named scalar terms for one update; called inside the loop's gradient scope. */
  loss(batch: TrainBatch, progress: number, monitor: Monitor): LossTerms;
  /** The weight of each term at this point of the phase (terms absent here weigh 1; a negative weight maximises). */
  weights(progress: number): Record<string, number>;
}

/**
 * A named part of a step that alternates updates (MCD: A. everything on source, B. the classifiers
 * maximise their discrepancy, C. the encoder minimises it `numK` times). All sub-steps of a step see
 * the same batches; each is one gradient update of its own variable groups (`repeat` times). Their
 * terms are logged as `loss/<sub-step>/<term>` (the mean over repetitions), still read from the
 * device only every `logEvery` steps.
 */
export interface SubStep extends Update {
  readonly name: string;
  /** Updates of this sub-step per step (default 1). */
  readonly repeat?: number;
}

interface PhaseBase {
  readonly name: string;
  readonly steps: number;
  readonly needs: AdapterNeeds;
  readonly evaluate: boolean;
  /**
   * Tensors of this step that need no gradient (a teacher's predictions, augmented views), computed
   * before the gradient scope opens, so the tape records none of their operations and keeps none of
   * their intermediate activations. loss() finds them in `batch.prepared`; the loop disposes them.
   */
  prepare?(batch: TrainBatch, progress: number): Record<string, tf.Tensor>;
  /** Before the phase's first step (swap heads, freeze layers, copy a teacher). */
  begin?(): void;
  /** After each optimiser step (e.g. the EMA teacher update); after the last sub-step in a sub-stepped phase. */
  afterStep?(): void;
}

/** A phase whose step is one update of all its variables. */
export interface SingleUpdatePhase extends PhaseBase, Update {
  readonly subSteps?: undefined;
}

/** A phase whose step is a sequence of updates (SubStep). */
export interface SubStepPhase extends PhaseBase {
  readonly subSteps: readonly SubStep[];
}

/**
 * A stretch of training with its own trainable variables and loss (pre-train a teacher, then
 * adapt). The loop runs a strategy's phases in order; evaluation and model selection happen in
 * phases with `evaluate: true`.
 */
export type TrainingPhase = SingleUpdatePhase | SubStepPhase;

/** A phase's updates in order: its sub-steps, or the phase itself as one unnamed update. */
export function updatesOf(phase: TrainingPhase): readonly SubStep[] {
  if (phase.subSteps != null) return phase.subSteps;
  const single = phase;
  return [{ name: '', variableGroups: () => single.variableGroups(), loss: (b, p, m) => single.loss(b, p, m), weights: (p) => single.weights(p) }];
}

export interface ArtifactSamples {
  /** A fixed, seeded sample of source and target test images, [N, H, W, C] in [0, 1]. */
  source: tf.Tensor4D;
  target: tf.Tensor4D;
}

export interface Adapter {
  readonly name: string;
  readonly needs: AdapterNeeds;
  /**
   * Source-free adaptation (SHOT): after its source phase (the last phase named `pretrain`, when
   * there is one) it must draw no source batch; the run logs `source_batches_after_source_phase`.
   */
  readonly sourceFree?: boolean;
  /** The phases of training, in order; their steps add up to the run's total. */
  phases(steps: number): TrainingPhase[];
  /** Class logits [B, K] for evaluation (inference mode). */
  predict(x: tf.Tensor4D): tf.Tensor2D;
  /** Encoder features [B, D] (embeddings, domain distances). */
  features(x: tf.Tensor4D): tf.Tensor2D;
  /** Models to checkpoint, by name. */
  checkpointModels(): Record<string, tf.LayersModel>;
  /**
   * Models a resumed run needs besides checkpointModels() (an EMA teacher), by name; what exists
   * depends on the phases begun so far.
   */
  stateModels?(): Record<string, tf.LayersModel>;
  /** The strategy's own plain state (counters) for a resume checkpoint, and its restore. */
  saveState?(): Record<string, unknown>;
  loadState?(state: Record<string, unknown>): void;
  /** Strategy-specific artifacts (file name -> bytes), written at the end of a run. */
  artifacts?(samples: ArtifactSamples): Promise<Record<string, Uint8Array>>;
  dispose(): void;
}

/** A set of images without labels, read in order in batches (tensors owned by the caller). */
export interface UnlabelledImages {
  readonly count: number;
  batches(batchSize: number): Iterable<tf.Tensor4D>;
}

export interface AdapterContext {
  backbone: Backbone;
  numClasses: number;
  /** 0, N per class, or 'all' (from `target.labels`). */
  targetLabels: number | 'all';
  seed: number;
  /** The backbone's weights come from `model.from` (no pre-training phase needed). */
  pretrained?: boolean;
  /** The target train pool's images without their labels (SHOT's class centroids). */
  targetPool?: UnlabelledImages;
  /** `adapter.entropy`: the weight of an entropy-minimisation term on target predictions added to the strategy's adaptation phase (0: none). */
  entropy?: number;
}

/**
 * What an adapter file exports. "Adapter" is the code's word for what users call a strategy
 * (`adapter:` in the experiment file, `dalab.adapter` tag): the same thing.
 * The factory parses its own options, so the container binds every strategy under one type.
 */
export interface AdapterFactory {
  readonly name: string;
  /** baseline | fine-tuning | alignment | split networks | distillation (logged as `dalab.family`). */
  readonly family: string;
  readonly description: string;
  /** What the strategy's instances need (checked before any data is loaded). */
  readonly needs: AdapterNeeds;
  /**
   * Parses `adapter:` minus `name` (strict: unknown keys are errors; a key renamed in an earlier
   * version names its new key) and returns the strategy bound to the parsed options.
   * Throws a UserError naming the field (`origin: adapter.KEY: ...`).
   */
  configure(raw: Record<string, unknown>, origin: string): ConfiguredAdapter;
}

/** A strategy with parsed options, ready to be built once the backbone exists. */
export interface ConfiguredAdapter {
  readonly factory: AdapterFactory;
  /** The strategy's options after its defaults (what the run logs as `adapter.*` params). */
  readonly options: Readonly<Record<string, unknown>>;
  create(context: AdapterContext): Adapter;
}

export interface AdapterDefinition<Options> {
  readonly name: string;
  readonly family: string;
  readonly description: string;
  readonly needs: AdapterNeeds;
  /** Validates `adapter:` minus `name`. */
  readonly options: z.ZodType<Options>;
  /** Option keys renamed since an earlier version: old key -> new key. */
  readonly renamed?: Readonly<Record<string, string>>;
  create(context: AdapterContext, options: Options): Adapter;
}

/** An AdapterFactory from a strategy's definition: the options' type stays inside the strategy's file. */
export function defineAdapter<Options>(definition: AdapterDefinition<Options>): AdapterFactory {
  const factory: AdapterFactory = {
    name: definition.name,
    family: definition.family,
    description: definition.description,
    needs: definition.needs,
    configure(raw, origin) {
      for (const [old, renamed] of Object.entries(definition.renamed ?? {})) {
        if (old in raw) throw new UserError(messages.renamedKey(origin, `adapter.${old}`, `adapter.${renamed}`, definition.name));
      }
      // `adapter.entropy` belongs to every strategy (except entmin, which is that term, and adabn, which trains nothing).
      const { entropy: rawEntropy, ...own } = raw;
      let entropy = 0;
      if (rawEntropy !== undefined) {
        if (definition.name === 'entmin' || definition.name === 'adabn') throw new UserError(messages.configField(origin, 'adapter.entropy', `not an option of strategy '${definition.name}'${definition.name === 'entmin' ? ' (its adapter.weight is that term)' : ' (it trains no weights)'}`));
        if (typeof rawEntropy !== 'number' || !(rawEntropy >= 0) || !Number.isFinite(rawEntropy)) throw new UserError(messages.configField(origin, 'adapter.entropy', `expected a weight >= 0, received ${JSON.stringify(rawEntropy)}`));
        entropy = rawEntropy;
      }
      const { options, resolved } = parseOptions(definition.options, own, origin, ['adapter'], `strategy '${definition.name}'`);
      return {
        factory,
        options: entropy > 0 ? { ...resolved, entropy } : resolved,
        create: (context) => definition.create(entropy > 0 ? { ...context, entropy } : context, options),
      };
    },
  };
  return factory;
}

export function variablesOf(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

/**
 * Shared base: an encoder + classifier trained with cross-entropy. Subclasses add terms.
 */
export abstract class ClassifierAdapter implements Adapter {
  abstract readonly name: string;
  abstract readonly needs: AdapterNeeds;
  protected readonly encoder: tf.LayersModel;
  protected classifier: tf.LayersModel;

  /** The strategy's own modules (discriminators, second classifiers, decoders), by checkpoint name. */
  private readonly modules = new Map<string, { model: tf.LayersModel; trainable: boolean }>();

  /** Auxiliary logits of the images the training encoder saw in this step (GoogLeNet's heads). */
  private readonly auxLogits = new Map<tf.Tensor, tf.Tensor2D[]>();

  constructor(protected readonly context: AdapterContext) {
    this.encoder = context.backbone.encoder;
    this.classifier = context.backbone.classifier;
  }

  /**
   * Declares one of the strategy's own modules, once: it is checkpointed under `name` (and restored
   * on resume), disposed with the strategy, and, when `trainable`, its variables join
   * trainableVariables() in declaration order.
   */
  protected module<M extends tf.LayersModel>(name: string, model: M, trainable = true): M {
    if (name === 'encoder' || name === 'classifier' || this.modules.has(name)) throw new Error(`${this.name}: module '${name}' declared twice`);
    this.modules.set(name, { model, trainable });
    return model;
  }

  /** The encoder's, the classifier's, the auxiliary heads' and every trainable module's variables. */
  trainableVariables(): tf.Variable[] {
    return [...variablesOf(this.encoder), ...variablesOf(this.classifier), ...this.auxVariables(), ...this.moduleVariables()];
  }

  /** The trainable modules' variables, in declaration order. */
  protected moduleVariables(): tf.Variable[] {
    return [...this.modules.values()].filter((m) => m.trainable).flatMap((m) => variablesOf(m.model));
  }

  /** The auxiliary heads' own variables (the encoder's are shared with them). */
  protected auxVariables(): tf.Variable[] {
    const aux = this.context.backbone.auxiliary;
    if (aux == null) return [];
    const shared = new Set(this.encoder.trainableWeights.map((w) => w.name));
    return aux.training.trainableWeights.filter((w) => !shared.has(w.name)).map((w) => w.read() as tf.Variable);
  }

  /**
   * The auxiliary heads' terms (`aux1`, `aux2`: cross-entropy on the labelled batch, source first),
   * reusing the logits of this step's forward pass when the strategy ran the training encoder on
   * that batch. Empty for a backbone without auxiliary heads.
   */
  private auxTerms(batch: TrainBatch): LossTerms {
    const aux = this.context.backbone.auxiliary;
    const labelled = batch.source ?? batch.targetLabelled;
    if (aux == null || labelled == null) return {};
    const logits = this.auxLogits.get(labelled.x) ?? (aux.training.apply(labelled.x, { training: true }) as tf.Tensor2D[]).slice(1);
    return Object.fromEntries(aux.names.map((name, i) => [name, crossEntropy(logits[i]!, labelled.y)]));
  }

  protected auxWeights(): Record<string, number> {
    const aux = this.context.backbone.auxiliary;
    return aux == null ? {} : Object.fromEntries(aux.names.map((name) => [name, aux.weight]));
  }

  /** The strategy's terms plus the auxiliary heads'. */
  protected withAux(terms: (batch: TrainBatch) => LossTerms): (batch: TrainBatch) => LossTerms {
    return (batch) => {
      this.auxLogits.clear();
      try {
        return { ...terms(batch), ...this.auxTerms(batch) };
      } finally {
        this.auxLogits.clear();
      }
    };
  }

  abstract loss(batch: TrainBatch, progress: number, monitor: Monitor): LossTerms;

  weights(_progress: number): Record<string, number> {
    return {};
  }

  afterStep?(): void;

  stateModels?(): Record<string, tf.LayersModel>;
  saveState?(): Record<string, unknown>;
  loadState?(state: Record<string, unknown>): void;

  /** The main phase's prepare() (TrainingPhase.prepare): this step's tensors that need no gradient. */
  prepare?(batch: TrainBatch, progress: number): Record<string, tf.Tensor>;

  /** One phase over all steps; strategies with a pre-training phase override this. */
  phases(steps: number): TrainingPhase[] {
    return [this.mainPhase(steps)];
  }

  protected mainPhase(steps: number, name = 'adapt'): SingleUpdatePhase {
    const entropy = this.context.entropy ?? 0;
    const withEntropy = (terms: LossTerms, batch: TrainBatch): LossTerms => this.withEntropy(terms, batch);
    return {
      name,
      steps,
      needs: entropy > 0 ? { ...this.needs, targetUnlabelled: true } : this.needs,
      evaluate: true,
      variableGroups: () => [{ variables: this.trainableVariables(), lrScale: 1 }],
      prepare: this.prepare == null ? undefined : (batch, progress) => this.prepare!(batch, progress),
      loss: (batch, progress, monitor) => withEntropy(this.withAux((b) => this.loss(b, progress, monitor))(batch), batch),
      weights: (progress) => ({ ...this.auxWeights(), ...this.weights(progress), ...(entropy > 0 ? { entropy } : {}) }),
      afterStep: this.afterStep == null ? undefined : () => this.afterStep!(),
    };
  }

  /**
   * `adapter.entropy`: entropy minimisation on the target batch besides the strategy's own terms
   * (its weight: entropyWeights()). A phase that uses it needs the target batch.
   */
  protected withEntropy(terms: LossTerms, batch: TrainBatch, logits?: (x: tf.Tensor4D) => tf.Tensor2D): LossTerms {
    if ((this.context.entropy ?? 0) <= 0) return terms;
    if (batch.target == null) throw new Error(`${this.name}: adapter.entropy needs the target batch`);
    return { ...terms, entropy: entropyLoss((logits ?? ((x) => this.logits(x)))(batch.target)) };
  }

  /** The weight of `adapter.entropy`'s term, when set. */
  protected entropyWeights(): Record<string, number> {
    const entropy = this.context.entropy ?? 0;
    return entropy > 0 ? { entropy } : {};
  }

  /** A plain source-classification phase (pre-training a teacher or a checkpoint to fine-tune). */
  protected sourcePhase(steps: number): SingleUpdatePhase {
    return {
      name: 'pretrain',
      steps,
      needs: { source: true, targetUnlabelled: false, targetLabels: 'never' },
      evaluate: false,
      variableGroups: () => [{ variables: [...variablesOf(this.encoder), ...variablesOf(this.classifier), ...this.auxVariables()], lrScale: 1 }],
      loss: (batch) => this.withAux((b) => ({ cls: this.sourceTerm(b) }))(batch),
      weights: () => this.auxWeights(),
    };
  }

  /** Logits in training mode (dropout / batch-norm statistics active). */
  protected logits(x: tf.Tensor4D): tf.Tensor2D {
    return this.classifier.apply(this.trainFeatures(x), { training: true }) as tf.Tensor2D;
  }

  /** Features in training mode, [B, D] (with auxiliary heads, their logits are kept for auxTerms). */
  protected trainFeatures(x: tf.Tensor4D): tf.Tensor2D {
    const aux = this.context.backbone.auxiliary;
    if (aux == null) return this.encoder.apply(x, { training: true }) as tf.Tensor2D;
    const [features, ...logits] = aux.training.apply(x, { training: true }) as tf.Tensor2D[];
    this.auxLogits.set(x, logits);
    return features!;
  }

  protected sourceTerm(batch: TrainBatch): tf.Scalar {
    if (batch.source == null) throw new Error(`${this.name}: the loop supplied no source batch`);
    return crossEntropy(this.logits(batch.source.x), batch.source.y);
  }

  /** `cls_target` when the loop supplied labelled target images. */
  protected targetTerm(batch: TrainBatch): LossTerms {
    if (batch.targetLabelled == null) return {};
    return { cls_target: crossEntropy(this.logits(batch.targetLabelled.x), batch.targetLabelled.y) };
  }

  predict(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => this.classifier.predict(this.encoder.predict(x) as tf.Tensor) as tf.Tensor2D);
  }

  features(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => this.encoder.predict(x) as tf.Tensor2D);
  }

  checkpointModels(): Record<string, tf.LayersModel> {
    const own = Object.fromEntries([...this.modules].map(([name, m]) => [name, m.model]));
    return { encoder: this.encoder, classifier: this.classifier, ...own };
  }

  dispose(): void {
    this.encoder.dispose();
    this.classifier.dispose();
    for (const m of this.modules.values()) m.model.dispose();
  }
}
