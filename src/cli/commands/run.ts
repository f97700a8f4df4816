/** `dalab run FILE [--set k=v]... [--json]`: one experiment. */
import { loadExperiment } from '../../config/load.js';
import { TrainingFailure } from '../../app/run-experiment.js';
import { StderrProgress } from '../../app/progress.js';
import { chooseBackend } from '../../app/backends.js';
import { messages } from '../../messages.js';
import { DALAB_VERSION } from '../../version.js';
import { collect, debug, printJson, printRunSummary, type Cli } from '../context.js';

export function registerRun(cli: Cli): void {
  cli.program
    .command('run')
    .description("run one experiment (the file's sweep: block is ignored)")
    .argument('<file>', 'experiment YAML file')
    .option('--set <key=value>', 'override a dotted key; the value is parsed as YAML (repeatable)', collect, [])
    .option('--json', 'print one JSON object as the last stdout line')
    .action(async (file: string, opts: { set: string[]; json?: boolean }) => {
      const runner = cli.runner();
      const prepared = await runner.prepare(loadExperiment(file, opts.set), file);
      const backend = await chooseBackend(cli.backendFlag());
      const progress = new StderrProgress();
      progress.status(`dalab ${DALAB_VERSION}: backend ${backend}`);
      try {
        const summary = await runner.run(prepared, { file, backend, progress });
        if (opts.json) printJson(summary);
        else printRunSummary(summary);
      } catch (error) {
        if (!(error instanceof TrainingFailure)) throw error;
        process.stderr.write(`dalab: ${messages.runFailed(error.summary.error ?? 'unknown error')}\n`);
        if (debug()) process.stderr.write(`${(error.cause as Error)?.stack ?? ''}\n`);
        if (opts.json) printJson(error.summary);
        cli.exitWith(1);
      }
    });
}
