/** `dalab models [--input H,W,C]`: the backbones, their blocks, layers and size. */
import { describeBackbones, parseInputShape } from '../../app/models.js';
import type { Cli } from '../context.js';

export function registerModels(cli: Cli): void {
  cli.program
    .command('models')
    .description('list the backbones (at their default options)')
    .option('--input <H,W,C>', "build every backbone at this input shape (default: each backbone's digit-sized default)")
    .option('--json', 'one JSON line')
    .action((opts: { input?: string; json?: boolean }) => {
      const backbones = describeBackbones(cli.runner(), opts.input != null ? parseInputShape(opts.input) : undefined);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(backbones)}\n`);
        return;
      }
      for (const b of backbones) {
        const pad = ''.padEnd(12);
        process.stdout.write(`${b.name.padEnd(12)} ${b.description}\n`);
        process.stdout.write(`${pad} at ${b.input.join('x')}: ${b.parameters.toLocaleString('en')} trainable parameters (10 classes)\n`);
        process.stdout.write(`${pad} adapter.freeze counts: ${b.freezeUnits.join(', ')}\n`);
        process.stdout.write(`${pad} features: ${b.featureLayer}; diagnostics: ${b.diagnosticLayers.join(', ')}\n`);
        const shown = b.alignable.length > 12 ? [...b.alignable.slice(0, 6), '…', ...b.alignable.slice(-4)] : b.alignable;
        process.stdout.write(`${pad} adapter.layers / adapter.layer (${b.alignable.length}): ${shown.join(', ')}\n`);
      }
    });
}
