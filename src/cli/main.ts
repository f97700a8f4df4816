/**
 * The command line: parse, call the application, print. Exit codes: 0 success, 1 a run failed
 * while training, 2 a bad file, key, value or flag (one line, no stack unless DALAB_DEBUG=1).
 */
import * as tf from '@tensorflow/tfjs';
import { Command, CommanderError } from 'commander';
import { UserError, messages } from '../messages.js';
import { createContainer } from '../container.js';
import { loadExperiment } from '../config/load.js';
import { ExperimentRunner, TrainingFailure, type RunSummary } from '../app/run-experiment.js';
import { StderrProgress } from '../app/progress.js';
import { probeBackends, selectBackend } from '../backend/backends.js';
import { DALAB_VERSION } from '../version.js';

// tfjs prints hints and checks meant for development; dalab reports its own backend choice.
tf.env().set('PROD', true);

const collect = (value: string, previous: string[]) => [...previous, value];
const debug = () => process.env['DALAB_DEBUG'] === '1';

function printRunSummary(summary: RunSummary): void {
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

  program
    .command('run')
    .description('run one experiment (the file\'s sweep: block is ignored)')
    .argument('<file>', 'experiment YAML file')
    .option('--set <key=value>', 'override a dotted key; the value is parsed as YAML (repeatable)', collect, [])
    .option('--json', 'print one JSON object as the last stdout line')
    .action(async (file: string, opts: { set: string[]; json?: boolean }) => {
      const config = loadExperiment(file, opts.set);
      const container = createContainer();
      const runner = container.get(ExperimentRunner);
      runner.prepare(config, file);
      const backend = await selectBackend(program.opts<{ backend?: string }>().backend);
      const progress = new StderrProgress();
      progress.status(`dalab ${DALAB_VERSION}: backend ${backend}`);
      try {
        const summary = await runner.run(config, { file, backend, progress });
        if (opts.json) process.stdout.write(JSON.stringify(summary) + '\n');
        else printRunSummary(summary);
      } catch (error) {
        if (!(error instanceof TrainingFailure)) throw error;
        process.stderr.write(`dalab: ${messages.runFailed(error.summary.error ?? 'unknown error')}\n`);
        if (debug()) process.stderr.write(`${(error.cause as Error)?.stack ?? ''}\n`);
        if (opts.json) process.stdout.write(JSON.stringify(error.summary) + '\n');
        exitCode = 1;
      }
    });

  program
    .command('backends')
    .description('which compute backends load here, and why the others do not')
    .option('--json', 'print one JSON object')
    .action(async (opts: { json?: boolean }) => {
      const probes = await probeBackends();
      const best = probes.find((p) => p.loaded)?.name;
      if (opts.json) {
        process.stdout.write(JSON.stringify({ default: best, backends: probes }) + '\n');
        return;
      }
      for (const p of probes) {
        const mark = p.loaded ? (p.name === best ? 'loaded (default)' : 'loaded') : 'not loaded';
        process.stdout.write(`${p.name.padEnd(15)} ${mark.padEnd(17)} ${p.description}${p.reason != null ? `\n${' '.repeat(33)}why not: ${p.reason}` : ''}\n`);
      }
    });

  program
    .command('models')
    .description('list the backbones')
    .action(() => {
      const runner = createContainer().get(ExperimentRunner);
      for (const b of runner.backboneFactories()) process.stdout.write(`${b.name.padEnd(12)} ${b.description}\n`);
    });

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
