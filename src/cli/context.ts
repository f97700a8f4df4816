/** What every command gets from main(): the composition root, the global flags and the exit code. */
import type { Command } from 'commander';
import { createContainer } from '../container.js';
import { ExperimentRunner, type RunSummary } from '../app/run-experiment.js';
import { StopSignal } from '../app/stop.js';

export interface Cli {
  readonly program: Command;
  /** The `--backend` flag (undefined: DALAB_BACKEND, else the best that loads). */
  backendFlag(): string | undefined;
  runner(): ExperimentRunner;
  container: ReturnType<typeof createContainer>;
  /** Sets the process exit code (1: a run failed while training). */
  exitWith(code: number): void;
}

/**
 * SIGTERM / SIGINT ask the run to stop at the end of the current step with a checkpoint; a second
 * signal stops at once (its usual exit code).
 */
export function stopOnSignals(status: (line: string) => void): StopSignal {
  const stop = new StopSignal();
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stop.signal != null) process.exit(signal === 'SIGINT' ? 130 : 143);
      status(`dalab: ${signal}: writing a checkpoint at the end of this step, then stopping (send it again to stop at once)`);
      stop.request(signal);
    });
  }
  return stop;
}

export const collect = (value: string, previous: string[]) => [...previous, value];
export const debug = () => process.env['DALAB_DEBUG'] === '1';

/** Writes one JSON object as the last stdout line (the `--json` contract). */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n');
}

export function printRunSummary(summary: RunSummary): void {
  const m = summary.metrics;
  const pct = (v: number | undefined) => (v == null || Number.isNaN(v) ? '-' : `${(100 * v).toFixed(2)}%`);
  process.stdout.write(
    [
      `run ${summary.runId} (${summary.experiment}) ${summary.status} on ${summary.backend}`,
      `  strategy            ${summary.adapter}`,
      `  source_test_acc     ${pct(m['source_test_acc'])}`,
      `  target_test_acc     ${pct(m['target_test_acc'])}  (selected checkpoint, step ${m['selected_step'] ?? '-'})`,
      `  target_test_acc_last   ${pct(m['target_test_acc_last'])}`,
      `  target_test_acc_oracle ${pct(m['target_test_acc_oracle'])}  (chosen on labelled target val; reference only)`,
      `  outputs             ${summary.outDir}`,
      '',
    ].join('\n'),
  );
}
