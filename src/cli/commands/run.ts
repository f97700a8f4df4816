/** `dalab run FILE [--set k=v]... [--resume [RUN_ID]] [--json]`: one experiment. */
import { loadExperiment } from '../../config/load.js';
import { TrainingFailure } from '../../app/run-experiment.js';
import { StderrProgress } from '../../app/progress.js';
import { chooseBackend } from '../../app/backends.js';
import { messages } from '../../messages.js';
import { DALAB_VERSION } from '../../version.js';
import { signalExitCode } from '../../app/stop.js';
import { collect, debug, printJson, printRunSummary, stopOnSignals, type Cli } from '../context.js';

export function registerRun(cli: Cli): void {
  cli.program
    .command('run')
    .description("run one experiment (the file's sweep: block is ignored)")
    .argument('<file>', 'experiment YAML file')
    .option('--set <key=value>', 'override a dotted key; the value is parsed as YAML (repeatable)', collect, [])
    .option('--resume [runId]', 'continue a killed run of this configuration from its last checkpoint (default: the most recent one; a finished one prints its result)')
    .option('--json', 'print one JSON object as the last stdout line')
    .action(async (file: string, opts: { set: string[]; json?: boolean; resume?: string | boolean }) => {
      const runner = cli.runner();
      const prepared = await runner.prepare(loadExperiment(file, opts.set), file);
      const found = opts.resume == null ? null : await runner.resumeTarget(prepared, typeof opts.resume === 'string' ? opts.resume : undefined);
      if (found != null && 'finished' in found) {
        process.stderr.write(`dalab: run ${found.finished.runId} of this configuration has finished; its result:\n`);
        if (opts.json) printJson(found.finished);
        else printRunSummary(found.finished);
        return;
      }
      // The data first: a bad file or label is then the only line printed (exit 2).
      const started = Date.now();
      const data = runner.loadData(prepared);
      const backend = await chooseBackend(cli.backendFlag());
      const progress = new StderrProgress();
      const read = ((Date.now() - started) / 1000).toFixed(1);
      // Printed once the model is built: a model that cannot take the input is then the only line.
      const onReady = () => {
        progress.status(`dalab ${DALAB_VERSION}: backend ${backend}`);
        progress.status(`data ${data.source.name} -> ${data.target.name} (train ${data.source.train.count} / ${data.target.train.count} images, read in ${read} s)`);
      };
      const stop = stopOnSignals((line) => progress.status(line));
      try {
        const summary = await runner.run(prepared, { file, backend, progress, stop, data, onReady, ...(found != null ? { resume: found.target } : {}) });
        if (opts.json) printJson(summary);
        else printRunSummary(summary);
      } catch (error) {
        if (!(error instanceof TrainingFailure)) throw error;
        if (error.summary.status === 'KILLED') {
          process.stderr.write(`dalab: ${error.summary.error}; continue with: dalab run ${file}${opts.set.map((s) => ` --set '${s}'`).join('')} --resume ${error.summary.runId}\n`);
          if (opts.json) printJson(error.summary);
          cli.exitWith(signalExitCode(stop.signal));
          return;
        }
        process.stderr.write(`dalab: ${messages.runFailed(error.summary.error ?? 'unknown error')}\n`);
        if (debug()) process.stderr.write(`${(error.cause as Error)?.stack ?? ''}\n`);
        if (opts.json) printJson(error.summary);
        cli.exitWith(1);
      }
    });
}
