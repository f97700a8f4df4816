/** `dalab sweep FILE [--workers N] [--index I --parent ID] [--emit slurm] [--json]`. */
import * as os from 'node:os';
import { emitSlurm, prepareSweep, runSweep, runSweepIndex, sweepTable, type PreparedSweep } from '../../app/sweep.js';
import { StderrProgress } from '../../app/progress.js';
import { chooseBackend } from '../../app/backends.js';
import { UserError, messages } from '../../messages.js';
import { DALAB_VERSION } from '../../version.js';
import { signalExitCode } from '../../app/stop.js';
import { collect, printJson, printRunSummary, stopOnSignals, type Cli } from '../context.js';

interface SweepFlags {
  set: string[];
  workers?: number;
  gpus?: string;
  index?: number;
  parent?: string;
  emit?: string;
  partition?: string;
  gpusPerTask?: number;
  cpusPerTask?: number;
  time?: string;
  script?: string;
  worker?: boolean;
  json?: boolean;
}

async function emit(cli: Cli, prepared: PreparedSweep, opts: SweepFlags): Promise<void> {
  if (opts.emit !== 'slurm') throw new UserError(messages.badEmit(opts.emit ?? ''));
  const emitted = await emitSlurm(
    prepared,
    {
      ...(opts.partition != null ? { partition: opts.partition } : {}),
      ...(opts.gpusPerTask != null ? { gpusPerTask: opts.gpusPerTask } : {}),
      ...(opts.cpusPerTask != null ? { cpusPerTask: opts.cpusPerTask } : {}),
      ...(opts.time != null ? { time: opts.time } : {}),
      ...(opts.script != null ? { out: opts.script } : {}),
    },
    cli.backendFlag(),
  );
  if (opts.json) printJson(emitted);
  else process.stdout.write(`wrote ${emitted.script}: a Slurm array of ${emitted.tasks} tasks under parent run ${emitted.parentRunId}\nsubmit with: sbatch ${emitted.script}\n`);
}

/** One combination: what a worker process or a Slurm array task runs. */
async function runOne(cli: Cli, prepared: PreparedSweep, index: number, parent: string, json: boolean): Promise<void> {
  const backend = await chooseBackend(cli.backendFlag());
  const progress = new StderrProgress();
  const stop = stopOnSignals((line) => progress.status(line));
  const summary = await runSweepIndex(cli.runner(), prepared, index, parent, backend, progress, stop);
  if (summary == null) {
    process.stderr.write(`sweep: combination ${index} already finished under ${parent}; skipped\n`);
    if (json) printJson({ skipped: true, index });
    return;
  }
  if (json) printJson(summary);
  else printRunSummary(summary);
  if (summary.status === 'KILLED') {
    process.stderr.write(`dalab: ${summary.error}; rerun the sweep (or this --index) to continue it\n`);
    cli.exitWith(signalExitCode(stop.signal));
  } else if (summary.status !== 'FINISHED') cli.exitWith(1);
}

async function runAll(cli: Cli, prepared: PreparedSweep, opts: SweepFlags, gpus: string[] | undefined): Promise<void> {
  const backendFlag = cli.backendFlag();
  const backend = await chooseBackend(backendFlag);
  const progress = new StderrProgress();
  progress.status(`dalab ${DALAB_VERSION}: backend ${backend}`);
  const workers = opts.workers ?? (gpus != null && gpus.length > 0 ? gpus.length : os.availableParallelism());
  const stop = stopOnSignals((line) => progress.status(line));
  const summary = await runSweep(cli.runner(), prepared, backend, progress, { workers, stop, ...(gpus != null ? { gpus } : {}), ...(backendFlag != null ? { backendFlag } : {}) });
  if (opts.json) {
    const { records: _records, ...contract } = summary;
    printJson(contract);
  } else {
    const finished = summary.runs.filter((r) => r.status === 'FINISHED').length;
    const killed = summary.runs.filter((r) => r.status === 'KILLED').length;
    process.stdout.write(`sweep ${summary.parentRunId} (${summary.experiment}): ${finished} finished, ${summary.failed.length} failed${killed > 0 ? `, ${killed} stopped (rerun the sweep to continue them from their checkpoints)` : ''}${summary.skipped.length > 0 ? `, ${summary.skipped.length} already finished earlier (skipped)` : ''} of ${summary.size}\n\n`);
    if (summary.records.length > 0) process.stdout.write(sweepTable(summary) + '\n');
    if (summary.skipped.length > 0) process.stdout.write(`all ${summary.size} runs: dalab report --parent ${summary.parentRunId} --out DIR\n`);
    for (const f of summary.failed) process.stdout.write(`failed: combination ${f.index} ${JSON.stringify(f.overrides)}: ${f.error}\n`);
  }
  if (stop.signal != null) cli.exitWith(signalExitCode(stop.signal));
  else if (summary.failed.length > 0) cli.exitWith(1);
}

export function registerSweep(cli: Cli): void {
  cli.program
    .command('sweep')
    .description("every combination of the file's sweep: axes (one parent run, a child run each; rerun to resume)")
    .argument('<file>', 'experiment YAML file with a sweep: block')
    .option('--set <key=value>', 'override a dotted key before expansion (repeatable)', collect, [])
    .option('--workers <n>', 'worker processes (default: the core count)', (v) => Number(v))
    .option('--gpus <list>', 'comma-separated GPU ids; worker k gets gpus[k] through CUDA_VISIBLE_DEVICES (default workers: one per GPU)')
    .option('--index <i>', 'run only combination i (0-based) as a child of --parent (what a worker or a Slurm task runs)', (v) => Number(v))
    .option('--parent <runId>', 'the parent run of --index')
    .option('--emit <kind>', "write a cluster job script instead of running: 'slurm' (an array job, task i runs --index i)")
    .option('--partition <p>', 'Slurm partition (with --emit slurm)')
    .option('--gpus-per-task <g>', 'Slurm GPUs per task (with --emit slurm)', (v) => Number(v))
    .option('--cpus-per-task <c>', 'Slurm CPUs per task (with --emit slurm)', (v) => Number(v))
    .option('--time <t>', 'Slurm time limit, e.g. 02:00:00 (with --emit slurm)')
    .option('--script <path>', 'where --emit writes the script (default ./<file>.slurm.sh)')
    .option('--worker', 'internal: run as a worker of a sweep (exit with it)')
    .option('--json', 'print one JSON object as the last stdout line')
    .action(async (file: string, opts: SweepFlags) => {
      // A worker dies with its sweep (bin/dalab.js watches the IPC channel from the start).
      if (opts.worker && process.send != null && !process.connected) process.exit(137);
      const prepared = await prepareSweep(cli.runner(), file, opts.set);
      const gpus = opts.gpus?.split(',').map((g) => g.trim()).filter((g) => g !== '');
      if (opts.workers != null && (!Number.isInteger(opts.workers) || opts.workers < 1)) throw new UserError(messages.badWorkers(String(opts.workers)));
      if ((opts.index != null) !== (opts.parent != null)) throw new UserError(messages.indexNeedsParent());
      if (opts.emit != null) await emit(cli, prepared, opts);
      else if (opts.index != null) await runOne(cli, prepared, opts.index, opts.parent!, opts.json === true);
      else await runAll(cli, prepared, opts, gpus);
    });
}
