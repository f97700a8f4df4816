/** `dalab sync`: replay an offline store's runs into an MLflow server, without duplicates. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { syncStore, type SyncResult } from '../tracking/sync.js';
import { MlflowClient } from '../tracking/mlflow-client.js';
import { UserError, messages } from '../messages.js';

export async function syncOfflineStore(store: string, to: string, onRun: (line: string) => void): Promise<SyncResult> {
  const root = path.resolve(store.replace(/^file:(\/\/)?/, ''));
  if (!fs.existsSync(root)) throw new UserError(messages.syncStoreMissing(store));
  if (!/^https?:\/\//.test(to)) throw new UserError(messages.badSyncTarget(to));
  return syncStore(root, new MlflowClient(to), onRun);
}
