/** `dalab data list / info / download / import / preview`. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataCommands, formatList } from '../../app/data.js';
import { printJson, type Cli } from '../context.js';

export function registerData(cli: Cli): void {
  const data = () => cli.container.get(DataCommands);
  const group = cli.program.command('data').description('datasets: what is there, what it holds, fetch, import, preview');
  group
    .command('list')
    .description('every dataset name, whether it is present, and its size')
    .option('--json', 'print one JSON object')
    .action((opts: { json?: boolean }) => {
      const rows = data().list();
      if (opts.json) printJson({ cache: data().cacheRoot(), datasets: rows });
      else process.stdout.write(formatList(rows));
    });
  group
    .command('info')
    .description("a dataset's files (sizes, checksums) and splits")
    .argument('<name>')
    .action((name: string) => {
      process.stdout.write(data().info(name));
    });
  group
    .command('download')
    .description('fetch a dataset into the cache (DALAB_DATA_MIRROR first, then the official locations; checksums verified)')
    .argument('<name>', data().downloadableNames().join(' | '))
    .option('--all', 'also the optional files (SVHN extra_32x32.mat)')
    .action(async (name: string, opts: { all?: boolean }) => {
      let last = 0;
      const result = await data().download(name, {
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
  group
    .command('import')
    .description('copy files you already have into the cache (checked like a download)')
    .argument('<name>')
    .argument('<path>', "folder holding the dataset's files under their official names")
    .action((name: string, from: string) => {
      const result = data().import(name, from);
      process.stdout.write(`${name}: imported ${result.imported.join(', ')} into ${result.dir}\n`);
    });
  group
    .command('preview')
    .description("a PNG grid of a dataset's first training images")
    .argument('<name>')
    .option('--out <file>', 'PNG file', 'preview.png')
    .option('--count <n>', 'images', (v) => Number(v), 100)
    .action((name: string, opts: { out: string; count: number }) => {
      fs.writeFileSync(opts.out, data().previewPng(name, opts.count));
      process.stdout.write(`wrote ${path.resolve(opts.out)}\n`);
    });
}
