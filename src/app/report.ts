/** `dalab report`: where the runs come from (flag > MLFLOW_TRACKING_URI > ./mlruns), then the report layer. */
import * as fs from 'node:fs';
import { writeReport, type ReportOptions, type ReportResult } from '../report/report.js';
import { loadReference, mergeReferences } from '../report/reference.js';
import { DEFAULT_TRACKING_URI } from '../tracking/resolve.js';
import { UserError, messages } from '../messages.js';

export type ReportRequest = Omit<ReportOptions, 'from'> & { from?: string; /** Experiment files whose `reference:` blocks the report compares with. */ referenceFiles?: string[] };

export async function makeReport(request: ReportRequest): Promise<ReportResult> {
  const from = request.from ?? process.env['MLFLOW_TRACKING_URI'] ?? DEFAULT_TRACKING_URI;
  if (!/^(file:|https?:\/\/)/.test(from) && !fs.existsSync(from)) throw new UserError(messages.badTrackingUri(from));
  const { referenceFiles = [], ...rest } = request;
  return writeReport({ ...rest, from, ...(referenceFiles.length > 0 ? { reference: mergeReferences(referenceFiles.map(loadReference)) } : {}) });
}
