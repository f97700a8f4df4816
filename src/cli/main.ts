/**
 * The command line: parse, call the application, print. One file per command in commands/.
 * Exit codes: 0 success, 1 a run failed while training, 2 a bad file, key, value or flag (one
 * line, no stack unless DALAB_DEBUG=1).
 */
import { Command, CommanderError } from 'commander';
import { UserError, messages } from '../messages.js';
import { createContainer } from '../container.js';
import { ExperimentRunner } from '../app/run-experiment.js';
import { DALAB_VERSION } from '../version.js';
import { debug, type Cli } from './context.js';
import { registerRun } from './commands/run.js';
import { registerSweep } from './commands/sweep.js';
import { registerSync } from './commands/sync.js';
import { registerReport } from './commands/report.js';
import { registerData } from './commands/data.js';
import { registerBackends } from './commands/backends.js';
import { registerBench } from './commands/bench.js';
import { registerModels } from './commands/models.js';
import { registerWeights } from './commands/weights.js';

export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = new Command();
  program
    .name('dalab')
    .description('domain-adaptation experiments: YAML -> trained, tracked run -> figures')
    .version(DALAB_VERSION)
    .option('--backend <name>', 'compute backend: tensorflow-gpu, tensorflow, onednn, wasm, cpu (default: best that loads; also DALAB_BACKEND)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  const container = createContainer();
  const cli: Cli = {
    program,
    container,
    backendFlag: () => program.opts<{ backend?: string }>().backend,
    runner: () => container.get(ExperimentRunner),
    exitWith: (code) => {
      exitCode = code;
    },
  };
  for (const register of [registerRun, registerSweep, registerSync, registerReport, registerData, registerBackends, registerBench, registerModels, registerWeights]) register(cli);

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit 0; everything else commander rejects is a usage error.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof UserError) {
      process.stderr.write(`dalab: ${error.message}\n`);
      if (debug()) process.stderr.write(`${error.stack}\n`);
      return 2;
    }
    process.stderr.write(`dalab: ${error instanceof Error ? error.message : String(error)}\n`);
    if (debug()) process.stderr.write(`${(error as Error)?.stack ?? ''}\n`);
    else process.stderr.write(`dalab: ${messages.bugReportHint()}\n`);
    return 1;
  }
  return exitCode;
}
