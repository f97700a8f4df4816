/**
 * Tracking URI precedence (README, "Tracking"): --set > the experiment file >
 * MLFLOW_TRACKING_URI > file:./mlruns. The experiment name: tracking.experiment >
 * MLFLOW_EXPERIMENT_NAME > the experiment's `name`.
 */
import { UserError, messages } from '../messages.js';
import type { ExperimentConfig } from '../config/schema.js';

export const DEFAULT_TRACKING_URI = 'file:./mlruns';

export function trackingUri(config: ExperimentConfig, env: NodeJS.ProcessEnv = process.env): string {
  const uri = config.tracking.uri ?? env['MLFLOW_TRACKING_URI'] ?? DEFAULT_TRACKING_URI;
  if (!/^(file:|https?:\/\/)/.test(uri)) throw new UserError(messages.badTrackingUri(uri));
  return uri;
}

export function experimentName(config: ExperimentConfig, env: NodeJS.ProcessEnv = process.env): string {
  return config.tracking.experiment ?? env['MLFLOW_EXPERIMENT_NAME'] ?? config.name;
}
