/**
 * `finetune` — fine-tuning a source-trained network on the labelled target subset
 * (Yosinski et al., "How transferable are features in deep neural networks?", NeurIPS 2014).
 *
 * Starts from `model.from` (a dalab run id or checkpoint folder, or a tfjs Layers model.json, e.g.
 * converted from Keras); without it, a first phase trains on the source (`pretrainSteps`).
 * Then: the classifier head is replaced when the class count differs (always with `head: new`), the first K weighted
 * layers are frozen (`freeze: K`, or a list of layer names), the other pre-trained layers train
 * with `lrScale` times the learning rate, and the head with the full rate, on labelled target only.
 */
import { z } from 'zod';
import * as tf from '@tensorflow/tfjs';
import { ClassifierAdapter, defineAdapter, variablesOf, type AdapterContext, type LossTerms, type TrainBatch, type TrainingPhase } from '../src/train/adapter.js';
import { crossEntropy } from '../src/losses/classification.js';
import { blockNames, buildHead, freezeBatchNorm } from '../src/models/backbones.js';
import { UserError, messages } from '../src/messages.js';

const NEEDS = { source: false, targetUnlabelled: false, targetLabels: 'required' } as const;

const options = z
  .object({
    /** How many of the backbone's blocks (input first) stay frozen, or their names (`dalab models` lists them). */
    freeze: z.union([z.number().int().nonnegative(), z.array(z.string()).min(1)]).default(0),
    /** Learning-rate multiplier for the unfrozen pre-trained layers (the head always gets 1). */
    lrScale: z.number().nonnegative().default(1),
    /**
     * `keep`: the checkpoint's head stays when it already has the task's class count (a fresh one
     * otherwise); `new`: always a fresh head, the textbook recipe (drop the pre-trained head, add a
     * new one) also when the pre-training task had the same classes.
     */
    head: z.enum(['keep', 'new']).default('keep'),
    /** Source steps of the first phase when there is no `model.from`. */
    pretrainSteps: z.number().int().positive().optional(),
  })
  .strict();
type Options = z.infer<typeof options>;

class Finetune extends ClassifierAdapter {
  readonly name = 'finetune';
  readonly needs = NEEDS;
  private readonly frozen: Set<string>;

  constructor(context: AdapterContext, private readonly options: Options) {
    super(context);
    const { blocks } = context.backbone;
    const names = blockNames(context.backbone);
    let frozenBlocks: string[];
    if (typeof options.freeze === 'number') {
      if (options.freeze > blocks.length) throw new UserError(messages.freezeTooDeep(options.freeze, names));
      frozenBlocks = names.slice(0, options.freeze);
    } else {
      for (const name of options.freeze) if (!names.includes(name)) throw new UserError(messages.unknownFreezeLayer(name, names));
      frozenBlocks = options.freeze;
    }
    // Every layer of a frozen block, its batch norm included.
    this.frozen = new Set(blocks.filter((b) => frozenBlocks.includes(b.name)).flatMap((b) => b.layers));
  }

  override phases(steps: number): TrainingPhase[] {
    const finetune: TrainingPhase = {
      ...this.mainPhase(steps, 'finetune'),
      begin: () => {
        this.replaceHeadIfNeeded();
        freezeBatchNorm(this.encoder, this.frozen);
      },
      variableGroups: () => {
        const pretrained = this.encoder.layers.filter((l) => !this.frozen.has(l.name)).flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable));
        return [
          { variables: pretrained, lrScale: this.options.lrScale },
          { variables: variablesOf(this.classifier), lrScale: 1 },
        ];
      },
    };
    if (this.context.pretrained) return [finetune];
    return [this.sourcePhase(this.options.pretrainSteps ?? steps), finetune];
  }

  /** A checkpoint trained for another label set (or any, with `head: new`) gets a fresh head of the right size. */
  private replaceHeadIfNeeded(): void {
    const units = this.classifier.outputs[0]!.shape[1];
    if (units === this.context.numClasses && this.options.head === 'keep') return;
    const featureSize = this.encoder.outputs[0]!.shape[1] as number;
    this.classifier.dispose();
    this.classifier = buildHead(featureSize, this.context.numClasses, this.context.seed * 13 + 5);
    this.context.backbone.classifier = this.classifier;
  }

  loss(batch: TrainBatch): LossTerms {
    const labelled = batch.targetLabelled!;
    return { cls: crossEntropy(this.logits(labelled.x), labelled.y) };
  }
}

export const finetuneAdapter = defineAdapter({
  name: 'finetune',
  family: 'fine-tuning',
  description: 'source-trained network (or model.from), new head if needed, first K layers frozen, trained on labelled target',
  needs: NEEDS,
  options,
  create: (context, opts) => new Finetune(context, opts),
});
