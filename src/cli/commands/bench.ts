/** `dalab bench`: measured training and evaluation throughput per backend. */
import { benchCommand, machineDescription } from '../../app/bench.js';
import { parseInputShape } from '../../app/models.js';
import { formatBenchHeader, formatBenchRow, formatRatios } from '../format.js';
import { printJson, type Cli } from '../context.js';

export function registerBench(cli: Cli): void {
  cli.program
    .command('bench')
    .description('measure training and evaluation throughput (images/s) per backend')
    .option('--backends <list>', 'comma-separated backends to measure (default: every one that loads; --backend picks one)')
    .option('--strategies <list>', 'comma-separated strategies', 'source,dann,mmd')
    .option('--backbones <list>', 'comma-separated backbones, each at its defaults', 'digitnet')
    .option('--input <H,W,C>', 'one input shape for every case (default: 28,28,1 and 32,32,3)')
    .option('--steps <n>', 'timed steps per case (cpu: a tenth)', (v) => Number.parseInt(v, 10), 30)
    .option('--peer <name>', "train the same network in a peer framework right after each measurement and print the ratio ('torch': python3 with torch, or DALAB_PEER_PYTHON)")
    .option('--json', 'print one JSON object as the last stdout line')
    .action(async (opts: { backends?: string; strategies: string; backbones: string; input?: string; steps: number; peer?: string; json?: boolean }) => {
      const machine = machineDescription();
      const globalBackend = cli.backendFlag() ?? process.env['DALAB_BACKEND'];
      let headerShown = false;
      const results = await benchCommand(cli.runner(), {
        ...(opts.backends != null ? { backends: opts.backends } : {}),
        ...(globalBackend != null ? { globalBackend } : {}),
        strategies: opts.strategies,
        backbones: opts.backbones,
        ...(opts.input != null ? { input: parseInputShape(opts.input) } : {}),
        steps: opts.steps,
        ...(opts.peer != null ? { peer: opts.peer } : {}),
        onResult: (r) => {
          if (opts.json) return;
          if (!headerShown) process.stdout.write(`machine: ${machine}\n${formatBenchHeader(opts.peer != null)}\n`);
          headerShown = true;
          process.stdout.write(formatBenchRow(r) + '\n');
        },
      });
      if (opts.json) printJson({ machine, results });
      else process.stdout.write(formatRatios(results));
    });
}
