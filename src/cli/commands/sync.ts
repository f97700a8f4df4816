/** `dalab sync STORE --to URI`: replay offline runs into an MLflow server. */
import { syncOfflineStore } from '../../app/sync.js';
import { printJson, type Cli } from '../context.js';

export function registerSync(cli: Cli): void {
  cli.program
    .command('sync')
    .description('replay the runs of an offline store into an MLflow server (no duplicates)')
    .argument('<store>', 'offline store folder (e.g. ./mlruns) or file:PATH')
    .requiredOption('--to <uri>', 'MLflow tracking server, http(s)://...')
    .option('--json', 'print one JSON object as the last stdout line')
    .action(async (store: string, opts: { to: string; json?: boolean }) => {
      const result = await syncOfflineStore(store, opts.to, (line) => process.stderr.write(`${line}\n`));
      if (opts.json) printJson(result);
      else process.stdout.write(`${result.delivered.length} runs delivered, ${result.skipped.length} already on the server\n`);
    });
}
