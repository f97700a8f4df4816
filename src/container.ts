/**
 * The composition root: every binding in one place. A new strategy is one file in adapters/ plus
 * one line here; a new dataset (src/data/datasets/), validator (src/train/validators/), backbone or
 * tracker likewise.
 */
import 'reflect-metadata';
import { Container } from 'inversify';
import type { AdapterFactory } from './train/adapter.js';
import type { BackboneFactory } from './models/backbones.js';
import { digitnet } from './models/backbones.js';
import { resnet } from './models/resnet.js';
import { lenet } from './models/lenet.js';
import { lenetDa } from './models/lenet-da.js';
import { alexnet } from './models/alexnet.js';
import { vgg } from './models/vgg.js';
import { densenet } from './models/densenet.js';
import { inception } from './models/inception.js';
import { mobilenet } from './models/mobilenet.js';
import type { Tracker } from './tracking/tracker.js';
import { FileStoreTracker } from './tracking/file-store.js';
import { MlflowServerTracker } from './tracking/server-tracker.js';
import { UserError, messages } from './messages.js';
import { sourceAdapter } from '../adapters/source.js';
import { targetAdapter } from '../adapters/target.js';
import { jointAdapter } from '../adapters/joint.js';
import { mmdAdapter } from '../adapters/mmd.js';
import { coralAdapter } from '../adapters/coral.js';
import { dannAdapter } from '../adapters/dann.js';
import { distillAdapter } from '../adapters/distill.js';
import { mccAdapter } from '../adapters/mcc.js';
import { entminAdapter } from '../adapters/entmin.js';
import { bnmAdapter } from '../adapters/bnm.js';
import { adabnAdapter } from '../adapters/adabn.js';
import { selftrainAdapter } from '../adapters/selftrain.js';
import { mcdAdapter } from '../adapters/mcd.js';
import { cdanAdapter } from '../adapters/cdan.js';
import { shotAdapter } from '../adapters/shot.js';
import { addaAdapter } from '../adapters/adda.js';
import { finetuneAdapter } from '../adapters/finetune.js';
import { dsnAdapter } from '../adapters/dsn.js';
import type { Validator } from './train/validators/validator.js';
import { lastValidator } from './train/validators/last.js';
import { sourceValValidator } from './train/validators/source-val.js';
import { entropyValidator } from './train/validators/entropy.js';
import { imValidator } from './train/validators/im.js';
import { sndValidator } from './train/validators/snd.js';
import { oracleValidator } from './train/validators/oracle.js';
import { devValidator } from './train/validators/dev.js';
import type { DatasetProvider } from './data/dataset.js';
import { DatasetRegistry } from './data/registry.js';
import { mnist10kDataset } from './data/datasets/mnist-10k.js';
import { synthDigitsDataset } from './data/datasets/synth-digits.js';
import { mnistMDataset } from './data/datasets/mnist-m.js';
import { mnistMOriginalDataset } from './data/datasets/mnist-m-original.js';
import { mnistDataset } from './data/datasets/mnist.js';
import { svhnDataset } from './data/datasets/svhn.js';
import { uspsDataset } from './data/datasets/usps.js';
import { idxDataset } from './data/datasets/idx.js';
import { folderDataset } from './data/datasets/folder.js';
import { ExperimentRunner } from './app/run-experiment.js';
import { WeightsService } from './app/weights.js';
import { DataCommands } from './app/data.js';
import { TYPES } from './types.js';

export { TYPES };
export type TrackerFactory = (uri: string) => Tracker;

export function createContainer(): Container {
  const container = new Container();

  // Strategies.
  container.bind<AdapterFactory>(TYPES.AdapterFactory).toConstantValue(sourceAdapter);
  container.bind<AdapterFactory>(TYPES.AdapterFactory).toConstantValue(targetAdapter);
  container.bind<AdapterFactory>(TYPES.AdapterFactory).toConstantValue(jointAdapter);
  container.bind<AdapterFactory>(TYPES.AdapterFactory).toConstantValue(mmdAdapter);
  container.bind<AdapterFactory>(TYPES.AdapterFactory).toConstantValue(coralAdapter);
  container.bind<AdapterFactory>(TYPES.AdapterFactory).toConstantValue(dannAdapter);
  container.bind<AdapterFactory>(TYPES.AdapterFactory).toConstantValue(distillAdapter);
  container.bind<AdapterFactory>(TYPES.AdapterFactory).toConstantValue(finetuneAdapter);
  container.bind<AdapterFactory>(TYPES.AdapterFactory).toConstantValue(dsnAdapter);
  container.bind<AdapterFactory>(TYPES.AdapterFactory).toConstantValue(mccAdapter);
  container.bind<AdapterFactory>(TYPES.AdapterFactory).toConstantValue(entminAdapter);
  container.bind<AdapterFactory>(TYPES.AdapterFactory).toConstantValue(bnmAdapter);
  container.bind<AdapterFactory>(TYPES.AdapterFactory).toConstantValue(adabnAdapter);
  container.bind<AdapterFactory>(TYPES.AdapterFactory).toConstantValue(selftrainAdapter);
  container.bind<AdapterFactory>(TYPES.AdapterFactory).toConstantValue(cdanAdapter);
  container.bind<AdapterFactory>(TYPES.AdapterFactory).toConstantValue(mcdAdapter);
  container.bind<AdapterFactory>(TYPES.AdapterFactory).toConstantValue(addaAdapter);
  container.bind<AdapterFactory>(TYPES.AdapterFactory).toConstantValue(shotAdapter);

  // Datasets (source.dataset / target.dataset names).
  container.bind<DatasetProvider>(TYPES.DatasetProvider).toConstantValue(mnist10kDataset);
  container.bind<DatasetProvider>(TYPES.DatasetProvider).toConstantValue(synthDigitsDataset);
  container.bind<DatasetProvider>(TYPES.DatasetProvider).toConstantValue(mnistMDataset);
  container.bind<DatasetProvider>(TYPES.DatasetProvider).toConstantValue(mnistMOriginalDataset);
  container.bind<DatasetProvider>(TYPES.DatasetProvider).toConstantValue(mnistDataset);
  container.bind<DatasetProvider>(TYPES.DatasetProvider).toConstantValue(svhnDataset);
  container.bind<DatasetProvider>(TYPES.DatasetProvider).toConstantValue(uspsDataset);
  container.bind<DatasetProvider>(TYPES.DatasetProvider).toConstantValue(idxDataset);
  container.bind<DatasetProvider>(TYPES.DatasetProvider).toConstantValue(folderDataset);
  container.bind(DatasetRegistry).toSelf().inSingletonScope();

  // Model-selection validators (select.by).
  container.bind<Validator>(TYPES.Validator).toConstantValue(lastValidator);
  container.bind<Validator>(TYPES.Validator).toConstantValue(sourceValValidator);
  container.bind<Validator>(TYPES.Validator).toConstantValue(entropyValidator);
  container.bind<Validator>(TYPES.Validator).toConstantValue(imValidator);
  container.bind<Validator>(TYPES.Validator).toConstantValue(sndValidator);
  container.bind<Validator>(TYPES.Validator).toConstantValue(devValidator);
  container.bind<Validator>(TYPES.Validator).toConstantValue(oracleValidator);

  // Backbones.
  container.bind<BackboneFactory>(TYPES.BackboneFactory).toConstantValue(digitnet);
  for (const backbone of [resnet, lenet, lenetDa, alexnet, vgg, densenet, inception, mobilenet]) container.bind<BackboneFactory>(TYPES.BackboneFactory).toConstantValue(backbone);

  // Trackers by URI scheme.
  container.bind<TrackerFactory>(TYPES.TrackerFactory).toConstantValue((uri: string) => {
    if (uri.startsWith('file:')) return new FileStoreTracker(uri);
    if (/^https?:\/\//.test(uri)) return new MlflowServerTracker(uri);
    throw new UserError(messages.unsupportedTrackingUri(uri));
  });

  container.bind(ExperimentRunner).toSelf().inSingletonScope();
  container.bind(WeightsService).toSelf().inSingletonScope();
  container.bind(DataCommands).toSelf().inSingletonScope();
  return container;
}
