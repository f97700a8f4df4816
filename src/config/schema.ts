/**
 * The experiment file: schema, defaults and validation (zod, strict: an unknown key is an error
 * that names the key, never silently ignored).
 */
import { z } from 'zod';

const positiveInt = z.number().int().positive();

export const domainSchema = z
  .object({
    dataset: z.string().min(1),
    /** The name tables, figures and `dalab.benchmark` give the domain (default: the dataset's name; for idx:/folder: the folder's last path component). */
    name: z.string().regex(/^(?!.*->)[^/\\]{1,60}$/, 'a short name: 1-60 characters, no slash and no "->"').optional(),
    /** Task shift: keep only these classes (labels become their index in this list unless relabelled). */
    classes: z.array(z.number().int().nonnegative()).min(2).optional(),
    /** Task shift: 'parity' (label % 2) or an explicit map from original label to new label. */
    relabel: z.union([z.literal('parity'), z.record(z.string().regex(/^\d+$/), z.number().int().nonnegative())]).optional(),
  })
  .strict();

export const targetSchema = domainSchema
  .extend({
    /** 0 = unsupervised; N = N labelled images per class; 'all' = every image of the train pool. */
    labels: z.union([z.number().int().nonnegative(), z.literal('all')]).default(0),
    /**
     * Label shift: class proportions [p0, ..., pK-1] (normalised; one per target class) to which the
     * target pool and test split are subsampled, the largest such subsample, drawn with the run's seed.
     */
    priors: z.array(z.number().nonnegative().finite()).min(2).refine((p) => p.some((v) => v > 0), 'at least one proportion above 0').optional(),
  })
  .strict();

export const modelSchema = z
  .object({
    /** A backbone's name (its defaults), or `{ name, ...options }` (`dalab models` lists them). */
    backbone: z.union([z.string().min(1), z.looseObject({ name: z.string().min(1) })]).default('digitnet'),
    input: z.tuple([positiveInt, positiveInt, z.union([z.literal(1), z.literal(3)])]).default([28, 28, 1]),
    /** Input scaling: unit ([0, 1], default), symmetric ([-1, 1]), domain (each domain standardised per channel by its own training images), instance (every image standardised per channel by its own statistics), imagenet ((x - mean) / std with torchvision's ImageNet statistics, for imported weights). */
    normalize: z.enum(['unit', 'symmetric', 'domain', 'instance', 'imagenet']).default('unit'),
    /** Start from trained weights: a run id, a checkpoint folder (a run's, or `dalab weights import`'s), a tfjs Layers model.json, or a torchvision `.pth` / `.safetensors` file (with `backbone` naming its architecture). */
    from: z.string().min(1).optional(),
  })
  .strict()
  .refine((m) => m.normalize !== 'imagenet' || m.input[2] === 3, { message: 'imagenet needs 3 input channels (input: [H, W, 3])', path: ['normalize'] });

/** Strategy-specific keys are validated by the strategy itself (see adapters/). */
export const adapterSchema = z
  .object({
    name: z.string().min(1),
  })
  .catchall(z.unknown());

export const trainSchema = z
  .object({
    /** At most 100 million (a larger value is a typo, not an experiment). */
    steps: positiveInt.max(100_000_000).default(1000),
    batchSize: positiveInt.max(65_536).default(64),
    optimizer: z.enum(['adam', 'sgd']).default('adam'),
    lr: z.number().positive().default(0.001),
    momentum: z.number().min(0).max(1).default(0.9),
    /** SGD: Nesterov momentum (PyTorch's nesterov=True; Transfer-Learning-Library's recipes use it). */
    nesterov: z.boolean().default(false),
    /** L2 on the kernels (convolution and dense weights, not biases or batch norm): gradient + weightDecay * w (PyTorch's weight_decay). */
    weightDecay: z.number().min(0).default(0),
    /**
     * constant | step | cosine | dann (lr / (1 + 10 p)^0.75, p = step / steps) | inv (Caffe's and
     * Transfer-Learning-Library's lr * (1 + invGamma * iteration)^-power, by iteration, not progress).
     */
    schedule: z.enum(['constant', 'step', 'cosine', 'dann', 'inv']).default('constant'),
    /** inv schedule: the rate's decay per iteration (Transfer-Learning-Library's lr_gamma, 0.001). */
    invGamma: z.number().positive().default(0.001),
    /** inv schedule: the exponent (lr_decay, 0.75). */
    power: z.number().positive().default(0.75),
    /** step schedule: multiply the rate by `gamma` every `stepSize` steps. */
    stepSize: positiveInt.optional(),
    gamma: z.number().positive().default(0.1),
    seed: z.number().int().nonnegative().default(0),
    /** Evaluate every N steps (and always at the end); 0 = only at the end. */
    evalEvery: z.number().int().nonnegative().optional(),
    /** Write a resume checkpoint every N steps (`dalab run --resume`); default: at every evaluation and at the end of each phase; 0 = only when stopped by SIGTERM/SIGINT. */
    checkpointEvery: z.number().int().nonnegative().optional(),
    /**
     * Steps at the start of each training phase in which only the supervised terms act (cls, cls2,
     * cls_target, aux*): a strategy's target terms (entmin, bnm, mcc, a discriminator's, ...) start
     * after them, on a classifier that has learned the source first, as the reference code does with
     * a trained source model or a first epoch. A sub-step with no supervised term is skipped.
     */
    warmup: z.number().int().nonnegative().default(0),
    /** Training-time augmentation of every batch (source and target): invert intensities with this probability. */
    invert: z.number().min(0).max(1).default(0),
    /** Random translation (pixels) and intensity augmentation (contrast/brightness jitter, Gaussian noise) of every training batch; off by default. */
    augment: z
      .union([
        z.boolean(),
        z
          .object({
            shift: z.number().min(0).default(2),
            noise: z.number().min(0).default(0.05),
          })
          .strict(),
      ])
      .default(false),
    /** Read the loss from the device every N steps (the loop never blocks on it in between). */
    logEvery: positiveInt.default(10),
  })
  .strict();

export const selectSchema = z
  .object({
    /** A validator's name (src/train/validators/, checked against the bound ones when a run is prepared): last | source-val (default) | entropy | im | snd | oracle. */
    by: z.string().min(1).default('source-val'),
  })
  .strict();

export const trackingSchema = z
  .object({
    uri: z.string().optional(),
    experiment: z.string().min(1).optional(),
    /**
     * An MLflow server that does not answer at the start: `error` (default: exit 2 naming the URI,
     * most often a typo) or `offline` (log to the offline store ./mlruns for `dalab sync`). A server
     * lost in the middle of a run always fails over to the offline store.
     */
    fallback: z.enum(['error', 'offline']).optional(),
  })
  .strict();

/** A published number: the value in percent, or with its own tolerance and citation. */
const publishedValue = z.union([
  z.number().min(0).max(100),
  z
    .object({
      value: z.number().min(0).max(100),
      /** Points below the published value that still count as reproduced (default: the block's). */
      tolerance: z.number().nonnegative().optional(),
      /** Where this number comes from, when not from the block's `cite`. */
      cite: z.string().min(1).optional(),
    })
    .strict(),
]);

/**
 * Published results to compare with (`dalab report --reference FILE`): benchmark ('source ->
 * target', as dalab names it) -> strategy -> value in percent. Read by the report only: it changes
 * no run (not logged as a param, not in the config hash).
 */
export const referenceSchema = z
  .object({
    /** The paper and table, or the repository file, the numbers come from. */
    cite: z.string().min(1),
    /** Points below the published value that still count as reproduced (a measured mean above it always does). */
    tolerance: z.number().nonnegative().default(3),
    values: z.record(z.string(), z.record(z.string().min(1), publishedValue)),
  })
  .strict()
  .superRefine((reference, context) => {
    for (const key of Object.keys(reference.values)) {
      if (!/^\S(.*\S)? ?-> ?\S(.*\S)?$/.test(key)) context.addIssue({ code: 'custom', path: ['values', key], message: `'${key}' is not a benchmark: write it as 'source -> target', e.g. 'mnist-10k -> usps'` });
    }
  });
export type Reference = z.infer<typeof referenceSchema>;

/** One sweep grid: dotted key -> the values of that axis. */
const sweepGrid = z.record(z.string(), z.array(z.unknown()).min(1));

export const experimentSchema = z
  .object({
    name: z.string().min(1),
    source: domainSchema,
    target: targetSchema,
    model: modelSchema.default(modelSchema.parse({})),
    adapter: adapterSchema.default({ name: 'source' }),
    train: trainSchema.default(trainSchema.parse({})),
    select: selectSchema.default({ by: 'source-val' }),
    tracking: trackingSchema.default({}),
    /** Published numbers to compare with; read by `dalab report --reference`, ignored by runs. */
    reference: referenceSchema.optional(),
    /** Read by `dalab sweep`; `dalab run` ignores it. */
    sweep: z.union([sweepGrid, z.array(sweepGrid).min(1)]).optional(),
  })
  .strict();

export type ExperimentConfig = z.infer<typeof experimentSchema>;
export type TrainConfig = z.infer<typeof trainSchema>;
export type AdapterConfig = z.infer<typeof adapterSchema>;
