/** `dalab backends`: which compute backends load here, and why the others do not. */
import { listBackends } from '../../app/backends.js';
import { printJson, type Cli } from '../context.js';

export function registerBackends(cli: Cli): void {
  cli.program
    .command('backends')
    .description('which compute backends load here, and why the others do not')
    .option('--json', 'print one JSON object')
    .action(async (opts: { json?: boolean }) => {
      const list = await listBackends();
      if (opts.json) {
        printJson(list);
        return;
      }
      for (const p of list.backends) {
        const mark = p.loaded ? (p.name === list.default ? 'loaded (default)' : 'loaded') : 'not loaded';
        process.stdout.write(`${p.name.padEnd(15)} ${mark.padEnd(17)} ${p.description}${p.reason != null ? `\n${' '.repeat(33)}why not: ${p.reason}` : ''}\n`);
      }
    });
}
