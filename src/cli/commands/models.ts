/** `dalab models`: the backbones, their alignable layers and what `freeze` counts. */
import { describeBackbones } from '../../app/models.js';
import type { Cli } from '../context.js';

export function registerModels(cli: Cli): void {
  cli.program
    .command('models')
    .description('list the backbones')
    .action(() => {
      for (const b of describeBackbones(cli.runner())) {
        process.stdout.write(`${b.name.padEnd(12)} ${b.description}\n`);
        process.stdout.write(`${''.padEnd(12)} adapter.layers / adapter.layer: ${b.alignable.join(', ')}\n`);
        process.stdout.write(`${''.padEnd(12)} adapter.freeze counts: ${b.freezeUnits.join(', ')}\n`);
      }
    });
}
