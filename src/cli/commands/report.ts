/** `dalab report --out DIR [...]`: figures, tables and index.html from tracked runs. */
import * as path from 'node:path';
import { makeReport } from '../../app/report.js';
import { collect, printJson, type Cli } from '../context.js';

interface ReportFlags {
  out: string;
  experiment: string[];
  from?: string;
  runs: string[];
  parent?: string;
  metric: string;
  doubleColumn?: boolean;
  embedding: boolean;
  reference: string[];
  json?: boolean;
}

export function registerReport(cli: Cli): void {
  cli.program
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
    .option('--reference <file>', "an experiment file whose reference: block holds published numbers: adds the published-vs-measured table and figure (repeatable)", collect, [])
    .option('--json', 'print one JSON object as the last stdout line')
    .action(async (opts: ReportFlags) => {
      const result = await makeReport({
        ...(opts.from != null ? { from: opts.from } : {}),
        experiments: opts.experiment,
        filters: opts.runs,
        ...(opts.parent != null ? { parent: opts.parent } : {}),
        out: opts.out,
        metric: opts.metric,
        column: opts.doubleColumn ? 'double' : 'single',
        embedding: opts.embedding,
        referenceFiles: opts.reference,
        onProgress: (line) => process.stderr.write(`report: ${line}\n`),
      });
      if (opts.json) {
        printJson(result);
        return;
      }
      process.stdout.write(`report of ${result.runs} runs: ${result.figures.join(', ')}\n`);
      for (const note of result.notes) process.stdout.write(`  not drawn: ${note}\n`);
      process.stdout.write(`  open ${path.join(result.out, 'index.html')}\n`);
    });
}
