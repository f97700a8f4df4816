/**
 * The composition root: every binding in one place. A new strategy is one file in adapters/ plus
 * one line here; a new dataset, backbone or tracker likewise.
 */
import 'reflect-metadata';
import { Container } from 'inversify';
import type { AdapterFactory } from './train/adapter.js';
import type { BackboneFactory } from './models/backbones.js';
import { digitnet } from './models/backbones.js';
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
import { finetuneAdapter } from '../adapters/finetune.js';
import { dsnAdapter } from '../adapters/dsn.js';
import { ExperimentRunner } from './app/run-experiment.js';
import { TYPES } from './types.js';

export { TYPES };
export type TrackerFactory = (uri: string) => Tracker;

export function createContainer(): Container {
  const container = new Container();

  // Strategies.
  container.bind<AdapterFactory<never>>(TYPES.AdapterFactory).toConstantValue(sourceAdapter as AdapterFactory<never>);
  container.bind<AdapterFactory<never>>(TYPES.AdapterFactory).toConstantValue(targetAdapter as AdapterFactory<never>);
  container.bind<AdapterFactory<never>>(TYPES.AdapterFactory).toConstantValue(jointAdapter as AdapterFactory<never>);
  container.bind<AdapterFactory<never>>(TYPES.AdapterFactory).toConstantValue(mmdAdapter as AdapterFactory<never>);
  container.bind<AdapterFactory<never>>(TYPES.AdapterFactory).toConstantValue(coralAdapter as AdapterFactory<never>);
  container.bind<AdapterFactory<never>>(TYPES.AdapterFactory).toConstantValue(dannAdapter as AdapterFactory<never>);
  container.bind<AdapterFactory<never>>(TYPES.AdapterFactory).toConstantValue(distillAdapter as AdapterFactory<never>);
  container.bind<AdapterFactory<never>>(TYPES.AdapterFactory).toConstantValue(finetuneAdapter as AdapterFactory<never>);
  container.bind<AdapterFactory<never>>(TYPES.AdapterFactory).toConstantValue(dsnAdapter as AdapterFactory<never>);

  // Backbones.
  container.bind<BackboneFactory>(TYPES.BackboneFactory).toConstantValue(digitnet);

  // Trackers by URI scheme.
  container.bind<TrackerFactory>(TYPES.TrackerFactory).toConstantValue((uri: string) => {
    if (uri.startsWith('file:')) return new FileStoreTracker(uri);
    if (/^https?:\/\//.test(uri)) return new MlflowServerTracker(uri);
    throw new UserError(messages.unsupportedTrackingUri(uri));
  });

  container.bind(ExperimentRunner).toSelf().inSingletonScope();
  return container;
}
