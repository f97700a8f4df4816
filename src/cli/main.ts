/**
 * The command line: parse, call the application, print. Exit codes: 0 success, 1 a run failed
 * while training, 2 a bad file, key, value or flag (one line, no stack unless DALAB_DEBUG=1).
 */
import { Command, CommanderError } from 'commander';
import { UserError, messages } from '../messages.js';
import { createContainer } from '../container.js';
import { loadExperiment } from '../config/load.js';
import { alignableLayerNames } from '../train/alignment.js';
import { ExperimentRunner, TrainingFailure, type RunSummary } from '../app/run-experiment.js';
import { StderrProgress } from '../app/progress.js';
import { probeBackends, selectBackend, type BackendName } from '../backend/backends.js';
import { machineDescription, runBench, type BenchResult } from '../app/bench.js';
import { formatBenchHeader, formatBenchRow, formatRatios } from './format.js';
import { emitSlurm, prepareSweep, runSweep, runSweepIndex } from '../app/sweep.js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { syncStore } from '../tracking/sync.js';
import { MlflowClient } from '../tracking/mlflow-client.js';
import { formatSummary, summarise } from '../report/summary.js';
import { DALAB_VERSION } from '../version.js';
import { writeReport } from '../report/report.js';
import { datasetInfo, formatList, listDatasets, previewPng } from '../app/data.js';
import { DOWNLOADABLE, dataRoot, downloadDataset, findDownloadable, importDataset } from '../data/cache.js';
import { DEFAULT_TRACKING_URI } from '../tracking/resolve.js';

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
    .action(
      async (
        file: string,
        opts: {
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
        },
      ) => {
        // A worker dies with its sweep (bin/dalab.js watches the IPC channel from the start).
        if (opts.worker && process.send != null && !process.connected) process.exit(137);
        const backendFlag = program.opts<{ backend?: string }>().backend;
        const runner = createContainer().get(ExperimentRunner);
        const prepared = prepareSweep(runner, file, opts.set);
        const gpus = opts.gpus?.split(',').map((g) => g.trim()).filter((g) => g !== '');
        if (opts.workers != null && (!Number.isInteger(opts.workers) || opts.workers < 1)) throw new UserError(messages.badWorkers(String(opts.workers)));
        if ((opts.index != null) !== (opts.parent != null)) throw new UserError(messages.indexNeedsParent());
        if (opts.emit != null) {
          if (opts.emit !== 'slurm') throw new UserError(messages.badEmit(opts.emit));
          const emitted = await emitSlurm(
            prepared,
            {
              ...(opts.partition != null ? { partition: opts.partition } : {}),
              ...(opts.gpusPerTask != null ? { gpusPerTask: opts.gpusPerTask } : {}),
              ...(opts.cpusPerTask != null ? { cpusPerTask: opts.cpusPerTask } : {}),
              ...(opts.time != null ? { time: opts.time } : {}),
              ...(opts.script != null ? { out: opts.script } : {}),
            },
            backendFlag,
          );
          if (opts.json) process.stdout.write(JSON.stringify(emitted) + '\n');
          else process.stdout.write(`wrote ${emitted.script}: a Slurm array of ${emitted.tasks} tasks under parent run ${emitted.parentRunId}\nsubmit with: sbatch ${emitted.script}\n`);
          return;
        }
        const backend = await selectBackend(backendFlag);
        const progress = new StderrProgress();
        if (opts.index != null) {
          const summary = await runSweepIndex(runner, prepared, opts.index, opts.parent!, backend, progress);
          if (summary == null) {
            process.stderr.write(`sweep: combination ${opts.index} already finished under ${opts.parent}; skipped\n`);
            if (opts.json) process.stdout.write(JSON.stringify({ skipped: true, index: opts.index }) + '\n');
            return;
          }
          if (opts.json) process.stdout.write(JSON.stringify(summary) + '\n');
          else printRunSummary(summary);
          if (summary.status !== 'FINISHED') exitCode = 1;
          return;
        }
        progress.status(`dalab ${DALAB_VERSION}: backend ${backend}`);
        const workers = opts.workers ?? (gpus != null && gpus.length > 0 ? gpus.length : os.availableParallelism());
        const summary = await runSweep(runner, prepared, backend, progress, { workers, ...(gpus != null ? { gpus } : {}), ...(backendFlag != null ? { backendFlag } : {}) });
        if (opts.json) {
          const { records: _records, ...contract } = summary;
          process.stdout.write(JSON.stringify(contract) + '\n');
        } else {
          const finished = summary.runs.length - summary.failed.length;
          process.stdout.write(`sweep ${summary.parentRunId} (${summary.experiment}): ${finished} finished, ${summary.failed.length} failed${summary.skipped.length > 0 ? `, ${summary.skipped.length} already finished earlier (skipped)` : ''} of ${summary.size}\n\n`);
          if (summary.records.length > 0) process.stdout.write(formatSummary(summarise(summary.records)) + '\n');
          if (summary.skipped.length > 0) process.stdout.write(`all ${summary.size} runs: dalab report --parent ${summary.parentRunId} --out DIR\n`);
          for (const f of summary.failed) process.stdout.write(`failed: combination ${f.index} ${JSON.stringify(f.overrides)}: ${f.error}\n`);
        }
        if (summary.failed.length > 0) exitCode = 1;
      },
    );

  program
    .command('sync')
    .description('replay the runs of an offline store into an MLflow server (no duplicates)')
    .argument('<store>', 'offline store folder (e.g. ./mlruns) or file:PATH')
    .requiredOption('--to <uri>', 'MLflow tracking server, http(s)://...')
    .option('--json', 'print one JSON object as the last stdout line')
    .action(async (store: string, opts: { to: string; json?: boolean }) => {
      const root = path.resolve(store.replace(/^file:(\/\/)?/, ''));
      if (!fs.existsSync(root)) throw new UserError(messages.syncStoreMissing(store));
      if (!/^https?:\/\//.test(opts.to)) throw new UserError(messages.badSyncTarget(opts.to));
      const result = await syncStore(root, new MlflowClient(opts.to), (line) => process.stderr.write(`${line}\n`));
      if (opts.json) process.stdout.write(JSON.stringify(result) + '\n');
      else process.stdout.write(`${result.delivered.length} runs delivered, ${result.skipped.length} already on the server\n`);
    });

  program
    .command('report')
    .description('figures (Vega-Lite, SVG, PNG), tables (Markdown, LaTeX) and an offline index.html from tracked runs')
    .requiredOption('--out <dir>', 'output folder')
    .option('--experiment <name>', 'only this experiment (repeatable; default: all)', collect, [])
    .option('--from <uri>', 'offline store (file:PATH) or MLflow server (http(s)://); default MLFLOW_TRACKING_URI, then file:./mlruns')
    .option('--runs <key=value>', 'only runs whose param or tag KEY is VALUE (V1|V2 for several; repeatable; e.g. adapter.name=dann|mmd, target.labels=0)', collect, [])
    .option('--parent <runId>', "only the children of this sweep's parent run")
    .option('--metric <key>', 'the metric compared', 'final/target_test_acc')
    .option('--double-column', 'size figures for a double-column (7 in) width')
    .option('--no-embedding', 'skip the UMAP feature embedding (the slowest figure)')
    .option('--json', 'print one JSON object as the last stdout line')
    .action(async (opts: { out: string; experiment: string[]; from?: string; runs: string[]; parent?: string; metric: string; doubleColumn?: boolean; embedding: boolean; json?: boolean }) => {
      const from = opts.from ?? process.env['MLFLOW_TRACKING_URI'] ?? DEFAULT_TRACKING_URI;
      if (!/^(file:|https?:\/\/)/.test(from) && !fs.existsSync(from)) throw new UserError(messages.badTrackingUri(from));
      const result = await writeReport({
        from,
        experiments: opts.experiment,
        filters: opts.runs,
        ...(opts.parent != null ? { parent: opts.parent } : {}),
        out: opts.out,
        metric: opts.metric,
        column: opts.doubleColumn ? 'double' : 'single',
        embedding: opts.embedding,
        onProgress: (line) => process.stderr.write(`report: ${line}\n`),
      });
      if (opts.json) process.stdout.write(JSON.stringify(result) + '\n');
      else {
        process.stdout.write(`report of ${result.runs} runs: ${result.figures.join(', ')}\n`);
        for (const note of result.notes) process.stdout.write(`  not drawn: ${note}\n`);
        process.stdout.write(`  open ${path.join(result.out, 'index.html')}\n`);
      }
    });

  const data = program.command('data').description('datasets: what is there, what it holds, fetch, import, preview');
  data
    .command('list')
    .description('every dataset name, whether it is present, and its size')
    .option('--json', 'print one JSON object')
    .action((opts: { json?: boolean }) => {
      const rows = listDatasets();
      process.stdout.write(opts.json ? JSON.stringify({ cache: dataRoot(), datasets: rows }) + '\n' : formatList(rows));
    });
  data
    .command('info')
    .description("a dataset's files (sizes, checksums) and splits")
    .argument('<name>')
    .action((name: string) => {
      process.stdout.write(datasetInfo(name));
    });
  data
    .command('download')
    .description('fetch a dataset into the cache (DALAB_DATA_MIRROR first, then the official locations; checksums verified)')
    .argument('<name>', DOWNLOADABLE.map((d) => d.name).join(' | '))
    .option('--all', 'also the optional files (SVHN extra_32x32.mat)')
    .action(async (name: string, opts: { all?: boolean }) => {
      const entry = findDownloadable(name);
      let last = 0;
      const result = await downloadDataset(entry, {
        ...(opts.all ? { all: true } : {}),
        onProgress: (e) => {
          const now = Date.now();
          if (e.done) process.stderr.write(`  ${e.file}: ${(e.received / 1e6).toFixed(1)} MB from ${e.url}, checksum ok\n`);
          else if (now - last > 2000) {
            last = now;
            process.stderr.write(`  ${e.file}: ${(e.received / 1e6).toFixed(1)}${e.total != null ? ` / ${(e.total / 1e6).toFixed(1)}` : ''} MB\n`);
          }
        },
      });
      process.stdout.write(`${name}: ${result.fetched.length} files downloaded, ${result.present.length} already cached, in ${result.dir}\n`);
    });
  data
    .command('import')
    .description('copy files you already have into the cache (checked like a download)')
    .argument('<name>')
    .argument('<path>', "folder holding the dataset's files under their official names")
    .action((name: string, from: string) => {
      const result = importDataset(findDownloadable(name), from);
      process.stdout.write(`${name}: imported ${result.imported.join(', ')} into ${result.dir}\n`);
    });
  data
    .command('preview')
    .description("a PNG grid of a dataset's first training images")
    .argument('<name>')
    .option('--out <file>', 'PNG file', 'preview.png')
    .option('--count <n>', 'images', (v) => Number(v), 100)
    .action((name: string, opts: { out: string; count: number }) => {
      fs.writeFileSync(opts.out, previewPng(name, opts.count));
      process.stdout.write(`wrote ${path.resolve(opts.out)}\n`);
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
    .command('bench')
    .description('measure training and evaluation throughput (images/s) per backend')
    .option('--backends <list>', 'comma-separated backends to measure (default: every one that loads; --backend picks one)')
    .option('--strategies <list>', 'comma-separated strategies', 'source,dann,mmd')
    .option('--steps <n>', 'timed steps per case (cpu: a tenth)', (v) => Number.parseInt(v, 10), 30)
    .option('--json', 'print one JSON object as the last stdout line')
    .action(async (opts: { backends?: string; strategies: string; steps: number; json?: boolean }) => {
      const runner = createContainer().get(ExperimentRunner);
      const global = program.opts<{ backend?: string }>().backend ?? process.env['DALAB_BACKEND'];
      let backends: BackendName[];
      if (opts.backends != null) backends = opts.backends.split(',').map((b) => b.trim()) as BackendName[];
      else if (global != null && global !== '') backends = [global as BackendName];
      else backends = (await probeBackends()).filter((p) => p.loaded).map((p) => p.name);
      for (const b of backends) await selectBackend(b);
      const wanted = opts.strategies.split(',').map((s) => s.trim());
      const strategies = runner.adapterFactories().filter((f) => wanted.includes(f.name));
      if (strategies.length === 0) throw new UserError(messages.unknownAdapter(opts.strategies, runner.adapterNames()));
      if (!Number.isInteger(opts.steps) || opts.steps < 1) throw new UserError(messages.badBenchSteps(String(opts.steps)));
      const machine = machineDescription();
      if (!opts.json) process.stdout.write(`machine: ${machine}\n${formatBenchHeader()}\n`);
      const results: BenchResult[] = [];
      for (const backend of backends) {
        // The pure-JS cpu backend is ~100x slower: it is measured on the smallest case only.
        const inputs: [number, number, number][] = backend === 'cpu' ? [[28, 28, 1]] : [[28, 28, 1], [32, 32, 3]];
        const cases = backend === 'cpu' ? strategies.filter((s) => s.name === 'source') : strategies;
        results.push(
          ...(await runBench({
            backends: [backend],
            inputs,
            strategies: cases,
            backbone: runner.backboneFactories()[0]!,
            batchSize: 64,
            steps: opts.steps,
            warmup: 5,
            onResult: (r) => {
              if (!opts.json) process.stdout.write(formatBenchRow(r) + '\n');
            },
          })),
        );
      }
      if (opts.json) process.stdout.write(JSON.stringify({ machine, results }) + '\n');
      else process.stdout.write(formatRatios(results));
    });

  program
    .command('models')
    .description('list the backbones')
    .action(() => {
      const runner = createContainer().get(ExperimentRunner);
      for (const b of runner.backboneFactories()) {
        // Built once at the digit input size to read its layer names (cheap: no training).
        const built = b.build({ input: [28, 28, 1], numClasses: 10, seed: 0 });
        process.stdout.write(`${b.name.padEnd(12)} ${b.description}\n`);
        process.stdout.write(`${''.padEnd(12)} adapter.layers / adapter.layer: ${alignableLayerNames(built).join(', ')}\n`);
        process.stdout.write(`${''.padEnd(12)} adapter.freeze counts: ${built.layerNames.join(', ')}\n`);
        built.encoder.dispose();
        built.classifier.dispose();
      }
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
