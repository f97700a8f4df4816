/**
 * `dsn` — Domain Separation Networks (Bousmalis et al., NeurIPS 2016). A shared encoder (the
 * backbone's, which the classifier reads) and a private encoder per domain; a shared decoder
 * reconstructs each image from shared + private features.
 *
 *   loss = CE(source) [+ CE(labelled target)]
 *        + alpha * (||S_s^T P_s||_F^2 + ||S_t^T P_t||_F^2) / D^2  difference (soft orthogonality)
 *        + beta  * (SIMSE(x_s, D(S_s + P_s)) + SIMSE(x_t, D(S_t + P_t)))   reconstruction
 *        + similarityWeight * similarity(S_s, S_t)                   DANN (gradient reversal) or MMD
 *
 * The decoder's output is linear (inputs may be normalised to any range). At the end, a grid of
 * reconstructions (rows: input, shared only, private only, both; each image stretched to its own
 * range) is saved as the artifact `dsn_reconstructions.png`.
 */
import { z } from 'zod';
import * as tf from '@tensorflow/tfjs';
import { ClassifierAdapter, defineAdapter, type AdapterContext, type ArtifactSamples, type LossTerms, type Monitor, type TrainBatch } from '../src/train/adapter.js';
import { crossEntropy } from '../src/losses/classification.js';
import { differenceLoss, scaleInvariantMse } from '../src/losses/separation.js';
import { DomainDiscriminator, grlCoefficient } from '../src/train/adversarial.js';
import { mmd } from '../src/losses/mmd.js';
import { encodePng, imageGrid } from '../src/util/png.js';
import { UserError, messages } from '../src/messages.js';

const NEEDS = { source: true, targetUnlabelled: true, targetLabels: 'optional' } as const;

const options = z
  .object({
    alpha: z.number().nonnegative().default(0.1),
    beta: z.number().nonnegative().default(0.1),
    similarityWeight: z.number().nonnegative().default(0.25),
    similarity: z.enum(['dann', 'mmd']).default('dann'),
  })
  .strict();
type Options = z.infer<typeof options>;

function buildDecoder(featureSize: number, [h, w, c]: [number, number, number], seed: number): tf.LayersModel {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed + k });
  const f = tf.input({ shape: [featureSize], name: 'decoder_in' });
  let x = tf.layers.dense({ name: 'decoder_fc', units: (h / 4) * (w / 4) * 16, activation: 'relu', kernelInitializer: init(1) }).apply(f) as tf.SymbolicTensor;
  x = tf.layers.reshape({ name: 'decoder_reshape', targetShape: [h / 4, w / 4, 16] }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.upSampling2d({ name: 'decoder_up1', size: [2, 2] }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ name: 'decoder_conv1', filters: 32, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(2) }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.upSampling2d({ name: 'decoder_up2', size: [2, 2] }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.conv2d({ name: 'decoder_out', filters: c, kernelSize: 3, padding: 'same', activation: 'linear', kernelInitializer: init(3) }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: f, outputs: out, name: 'decoder' });
}

class Dsn extends ClassifierAdapter {
  readonly name = 'dsn';
  readonly needs = NEEDS;
  private readonly privateSource: tf.LayersModel;
  private readonly privateTarget: tf.LayersModel;
  private readonly decoder: tf.LayersModel;
  private readonly discriminator: DomainDiscriminator;

  constructor(context: AdapterContext, private readonly options: Options) {
    super(context);
    const input = context.backbone.encoder.inputs[0]!.shape.slice(1) as [number, number, number];
    if (input[0] % 4 !== 0 || input[1] % 4 !== 0) throw new UserError(messages.dsnInputShape(input));
    const featureSize = context.backbone.encoder.outputs[0]!.shape[1] as number;
    const privates = [context.backbone.rebuild(1), context.backbone.rebuild(2)];
    this.privateSource = this.module('private_source', privates[0]!.encoder);
    this.privateTarget = this.module('private_target', privates[1]!.encoder);
    for (const p of privates) p.classifier.dispose();
    this.decoder = this.module('decoder', buildDecoder(featureSize, input, context.seed * 17 + 3));
    this.discriminator = new DomainDiscriminator({ inputSize: featureSize, hidden: 100, seed: context.seed * 31 + 11, name: 'dsn_discriminator' });
    // Checkpointed either way; trained only when it is the similarity term.
    this.module('discriminator', this.discriminator.model, options.similarity === 'dann');
  }

  loss(batch: TrainBatch, progress: number, monitor: Monitor): LossTerms {
    const xs = batch.source!.x;
    const xt = batch.target!;
    const sharedS = this.trainFeatures(xs);
    const sharedT = this.trainFeatures(xt);
    const privateS = this.privateSource.apply(xs, { training: true }) as tf.Tensor2D;
    const privateT = this.privateTarget.apply(xt, { training: true }) as tf.Tensor2D;
    const difference = tf.add(differenceLoss(sharedS, privateS), differenceLoss(sharedT, privateT)) as tf.Scalar;
    const reconS = this.decoder.apply(tf.add(sharedS, privateS), { training: true }) as tf.Tensor4D;
    const reconT = this.decoder.apply(tf.add(sharedT, privateT), { training: true }) as tf.Tensor4D;
    const reconstruction = tf.add(scaleInvariantMse(xs, reconS), scaleInvariantMse(xt, reconT)) as tf.Scalar;
    let similarity: tf.Scalar;
    if (this.options.similarity === 'dann') {
      const domain = this.discriminator.adversarial(sharedS, sharedT, grlCoefficient(progress, { grlSpeed: 10 }));
      monitor('domain_acc', domain.accuracy);
      similarity = domain.loss;
    } else {
      similarity = mmd(sharedS, sharedT);
    }
    const logits = this.classifier.apply(sharedS, { training: true }) as tf.Tensor2D;
    return { cls: crossEntropy(logits, batch.source!.y), difference, reconstruction, similarity, ...this.targetTerm(batch) };
  }

  override weights(): Record<string, number> {
    return { difference: this.options.alpha, reconstruction: this.options.beta, similarity: this.options.similarityWeight };
  }

  /** Reconstructions of fixed test images: input / shared only / private only / both. */
  async artifacts(samples: ArtifactSamples): Promise<Record<string, Uint8Array>> {
    const rows = tf.tidy(() => {
      const decode = (x: tf.Tensor4D, priv: tf.LayersModel) => {
        const shared = this.encoder.predict(x) as tf.Tensor2D;
        const own = priv.predict(x) as tf.Tensor2D;
        return [x, this.decoder.predict(shared), this.decoder.predict(own), this.decoder.predict(tf.add(shared, own))] as tf.Tensor4D[];
      };
      const s = decode(samples.source, this.privateSource);
      const t = decode(samples.target, this.privateTarget);
      const all = tf.concat(s.map((row, i) => tf.concat([row, t[i]!], 0)), 0);
      // Inputs are normalised and the decoder is linear: show each image stretched to its own range.
      const low = tf.min(all, [1, 2, 3], true);
      const range = tf.maximum(tf.sub(tf.max(all, [1, 2, 3], true), low), 1e-6);
      return tf.div(tf.sub(all, low), range);
    });
    const [n, h, w, c] = rows.shape as [number, number, number, number];
    const bytes = Uint8Array.from(await rows.data(), (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
    rows.dispose();
    const grid = imageGrid(bytes, n, h, w, c as 1 | 3, n / 4, 3);
    return { 'dsn_reconstructions.png': encodePng(grid.pixels, grid.width, grid.height, c as 1 | 3) };
  }
}

export const dsnAdapter = defineAdapter({
  name: 'dsn',
  family: 'split networks',
  description: 'shared + private encoders, shared decoder (Domain Separation Networks)',
  needs: NEEDS,
  options,
  renamed: { gamma: 'similarityWeight' },
  create: (context, opts) => new Dsn(context, opts),
});
