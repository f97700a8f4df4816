/**
 * `adda` — Adversarial Discriminative Domain Adaptation (Tzeng et al., CVPR 2017).
 *
 * 1. Source phase (skipped with `model.from`): encoder + classifier on labelled source, for
 *    `pretrainSteps` (default `train.steps`).
 * 2. The target encoder starts as a copy of the source encoder (the backbone's encoder goes on as
 *    the target encoder; a frozen copy keeps the source one); the classifier stays fixed. Each step
 *    alternates two sub-steps on the same batches (the GAN objective with inverted labels):
 *      discriminator:  D      minimise BCE(D(M_s(x_s)), 1) + BCE(D(M_t(x_t)), 0)
 *      encoder:        M_t    minimise weight * BCE(D(M_t(x_t)), 1)   [+ CE on labelled target]
 *    The discriminator is the shared toolkit's (src/train/adversarial.ts), two hidden layers of
 *    `hidden` units (500 in the paper). Prediction: classifier(M_t(x)). `domain_acc` is logged.
 */
import { z } from 'zod';
import * as tf from '@tensorflow/tfjs';
import { ClassifierAdapter, defineAdapter, variablesOf, type AdapterContext, type LossTerms, type SubStep, type TrainingPhase } from '../src/train/adapter.js';
import { crossEntropy } from '../src/losses/classification.js';
import { DomainDiscriminator } from '../src/train/adversarial.js';

const NEEDS = { source: true, targetUnlabelled: true, targetLabels: 'optional' } as const;

const options = z
  .object({
    /** Weight of the encoder's adversarial term. */
    weight: z.number().positive().default(1),
    hidden: z.number().int().positive().default(500),
    /**
     * Learning-rate multiplier of the adversarial phase (discriminator and target encoder): 0.2
     * makes dalab's usual Adam 1e-3 the paper's 2e-4.
     */
    lrScale: z.number().positive().default(0.2),
    /** Adam's beta1 in the adversarial phase (the paper's 0.5). */
    beta1: z.number().min(0).max(0.999).default(0.5),
    /** Source steps of the first phase when there is no `model.from`. */
    pretrainSteps: z.number().int().positive().optional(),
  })
  .strict();
type Options = z.infer<typeof options>;

class Adda extends ClassifierAdapter {
  readonly name = 'adda';
  readonly needs = NEEDS;
  private readonly sourceEncoder: tf.LayersModel;
  private readonly discriminator: DomainDiscriminator;

  constructor(context: AdapterContext, private readonly options: Options) {
    super(context);
    const copy = context.backbone.rebuild(2);
    copy.classifier.dispose();
    // The source encoder: frozen, a copy of the trained encoder when adaptation begins.
    this.sourceEncoder = this.module('source_encoder', copy.encoder, false);
    const featureSize = this.encoder.outputs[0]!.shape[1] as number;
    this.discriminator = new DomainDiscriminator({ inputSize: featureSize, hidden: options.hidden, seed: context.seed * 31 + 23, name: 'adda_discriminator' });
    this.module('discriminator', this.discriminator.model, false);
  }

  override phases(steps: number): TrainingPhase[] {
    const discriminatorGroup = { key: 'discriminator', variables: variablesOf(this.discriminator.model), lrScale: this.options.lrScale, beta1: this.options.beta1 };
    const encoderGroup = { key: 'target_encoder', variables: [...variablesOf(this.encoder), ...this.auxVariables()], lrScale: this.options.lrScale, beta1: this.options.beta1 };
    const subSteps: SubStep[] = [
      {
        name: 'discriminator',
        variableGroups: () => [discriminatorGroup],
        loss: (batch, _progress, monitor) => {
          const source = this.sourceEncoder.apply(batch.source!.x, { training: false }) as tf.Tensor2D;
          const target = this.trainFeatures(batch.target!);
          const domain = this.discriminator.classify(source, target);
          monitor('domain_acc', domain.accuracy);
          return { domain: domain.loss };
        },
        weights: () => ({}),
      },
      {
        name: 'encoder',
        variableGroups: () => [encoderGroup],
        loss: (batch) => {
          const terms: LossTerms = { adversarial: this.discriminator.fool(this.trainFeatures(batch.target!)) };
          if (batch.targetLabelled != null) terms['cls_target'] = crossEntropy(this.logits(batch.targetLabelled.x), batch.targetLabelled.y);
          return this.withEntropy(terms, batch);
        },
        weights: () => ({ adversarial: this.options.weight, ...this.entropyWeights() }),
      },
    ];
    const adapt: TrainingPhase = {
      name: 'adapt',
      steps,
      needs: NEEDS,
      evaluate: true,
      subSteps,
      begin: () => this.sourceEncoder.setWeights(this.encoder.getWeights()),
    };
    if (this.context.pretrained) return [adapt];
    return [this.sourcePhase(this.options.pretrainSteps ?? steps), adapt];
  }

  loss(): LossTerms {
    throw new Error('adda: its phases define their own losses');
  }
}

export const addaAdapter = defineAdapter({
  name: 'adda',
  family: 'alignment',
  description: 'a target encoder initialised from the source encoder, trained against a discriminator (ADDA)',
  needs: NEEDS,
  options,
  create: (context, opts) => new Adda(context, opts),
});
