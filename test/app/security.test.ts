/**
 * Security: user strings are escaped in the HTML report and in SVG text (a hostile experiment name,
 * tracking.experiment and folder: dataset path run no script in Chromium); credentials (user:pass@
 * in the URI, MLFLOW_TRACKING_PASSWORD, MLFLOW_TRACKING_TOKEN) appear nowhere dalab writes or
 * prints; a sync input or an artifact name can never lead outside its run folder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'ava';
import { PNG } from 'pngjs';
import { chromium } from 'playwright-core';
import { dalab, tempDir } from '../helpers.js';
import { MlflowServer, mlflowRequired, SKIP_MESSAGE } from '../mlflow-server.js';
import { checkRelativePath, joinInside } from '../../src/util/files.js';
import { MlflowClient } from '../../src/tracking/mlflow-client.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const inCi = process.env['CI'] === 'true';
const browserTest = fs.existsSync(CHROMIUM) || inCi ? test : test.skip;
const serverTest = mlflowRequired ? test.serial : test.serial.skip;
if (!mlflowRequired) console.log(SKIP_MESSAGE);

const HOSTILE_NAME = `x<img src=x onerror="window.pwned='name'">`;
const HOSTILE_EXPERIMENT = `</script><script>window.pwned='experiment'</script>`;
const HOSTILE_FOLDER = `d<svg onload="window.pwned='folder'">`;

/** A folder: dataset of 28x28 PNGs, 10 classes, in a folder whose name is hostile. */
function hostileFolder(root: string): string {
  const dir = path.join(root, HOSTILE_FOLDER);
  for (const split of ['train', 'test']) {
    for (let c = 0; c < 10; c++) {
      fs.mkdirSync(path.join(dir, split, String(c)), { recursive: true });
      for (let i = 0; i < (split === 'train' ? 12 : 6); i++) {
        const png = new PNG({ width: 28, height: 28 });
        for (let p = 0; p < 28 * 28; p++) png.data.set([(p * (c + 1) + i * 7) % 256, 0, 0, 255], p * 4);
        png.data.fill(255, 0, 0);
        fs.writeFileSync(path.join(dir, split, String(c), `${i}.png`), PNG.sync.write(png));
      }
    }
  }
  return dir;
}

browserTest('hostile experiment name, tracking.experiment and folder path are shown as text in index.html (Chromium runs no script) and in every SVG', async (t) => {
  const dir = tempDir('dalab-xss-');
  const folder = hostileFolder(dir);
  const file = path.join(dir, 'x.yaml');
  fs.writeFileSync(
    file,
    [
      `name: ${JSON.stringify(HOSTILE_NAME)}`,
      'source: { dataset: mnist-10k }',
      `target: { dataset: ${JSON.stringify(`folder:${folder}`)}, labels: 0 }`,
      'model: { backbone: digitnet, input: [16, 16, 1] }',
      'adapter: { name: source }',
      'train: { steps: 8, batchSize: 8, evalEvery: 4 }',
      'select: { by: last }',
      `tracking: { uri: ${JSON.stringify(`file:${path.join(dir, 'store')}`)}, experiment: ${JSON.stringify(HOSTILE_EXPERIMENT)} }`,
      'sweep:',
      '  adapter.name: [source, mmd]',
      '  train.seed: [0, 1]',
      // Two benchmarks: the figures then name them (facets), the folder's name among them.
      `  target.dataset: [mnist-10k, ${JSON.stringify(`folder:${folder}`)}]`,
      '',
    ].join('\n'),
  );
  const sweep = dalab(['sweep', file, '--workers', '2']);
  t.is(sweep.status, 0, sweep.stderr);
  const out = path.join(dir, 'report');
  const report = dalab(['report', '--from', `file:${path.join(dir, 'store')}`, '--experiment', HOSTILE_EXPERIMENT, '--out', out]);
  t.is(report.status, 0, report.stderr);

  const svgs = fs.readdirSync(out).filter((f) => f.endsWith('.svg'));
  t.true(svgs.length > 0);
  let shown = 0;
  for (const f of svgs) {
    const svg = fs.readFileSync(path.join(out, f), 'utf8');
    t.notRegex(svg, /<(img|script)\b/i, f);
    t.is((svg.match(/<svg\b/g) ?? []).length, 1, `${f}: one svg element`);
    if (svg.includes('&lt;svg onload=')) shown++;
  }
  t.true(shown > 0, 'the folder name appears escaped in some figure');
  const html = fs.readFileSync(path.join(out, 'index.html'), 'utf8');
  t.false(html.includes(HOSTILE_EXPERIMENT), 'the experiment name is never raw in the HTML');

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  try {
    const page = await browser.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(`file://${path.join(out, 'index.html')}`);
    const state = await page.evaluate(async () => {
      const w = window as unknown as { pwned?: string; dalabReport: { ready: Promise<unknown>; errors: string[] } };
      await w.dalabReport.ready;
      await new Promise((r) => setTimeout(r, 300));
      return { pwned: w.pwned ?? null, errors: w.dalabReport.errors, text: document.body.innerText, title: document.title, images: document.querySelectorAll('img').length };
    });
    t.is(state.pwned, null, 'no injected script ran');
    t.deepEqual(dialogs, []);
    t.deepEqual(state.errors, []);
    t.is(state.images, 0, 'no injected element');
    t.true(state.title.includes(HOSTILE_EXPERIMENT), 'the experiment name is shown as text in the title');
    t.true(state.text.includes(HOSTILE_FOLDER), 'the folder name is shown as text');
    for (const f of svgs.slice(0, 3)) {
      await page.goto(`file://${path.join(out, f)}`);
      t.is(await page.evaluate(() => (window as unknown as { pwned?: string }).pwned ?? null), null, `${f} runs no script`);
    }
  } finally {
    await browser.close();
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

serverTest('credentials (user:pass@ in the URI, MLFLOW_TRACKING_PASSWORD, MLFLOW_TRACKING_TOKEN) appear in no param, tag, artifact, log, message or file', async (t) => {
  const server = new MlflowServer();
  await server.start();
  try {
    const dir = tempDir('dalab-secrets-');
    const secrets = ['uRiS3cretPw', 'eNvS3cretPw', 't0kenS3cret'];
    const uri = server.uri.replace('//', `//alice:${secrets[0]}@`);
    const file = path.join(dir, 's.yaml');
    fs.writeFileSync(
      file,
      [
        'name: secrets',
        'source: { dataset: mnist-10k }',
        'target: { dataset: mnist-10k, labels: 0 }',
        'model: { backbone: digitnet, input: [16, 16, 1] }',
        'adapter: { name: source }',
        'train: { steps: 6, batchSize: 8, evalEvery: 3 }',
        `tracking: { uri: '${uri}' }`,
        'sweep:',
        '  train.seed: [0, 1]',
        '',
      ].join('\n'),
    );
    const env = { MLFLOW_TRACKING_USERNAME: 'alice', MLFLOW_TRACKING_PASSWORD: secrets[1]!, MLFLOW_TRACKING_TOKEN: secrets[2]! };
    const outputs: string[] = [];
    const run = dalab(['run', file, '--json'], env, dir);
    t.is(run.status, 0, run.stderr);
    outputs.push(run.stdout, run.stderr);
    const sweep = dalab(['sweep', file, '--workers', '2', '--json'], env, dir);
    t.is(sweep.status, 0, sweep.stderr);
    outputs.push(sweep.stdout, sweep.stderr);
    const report = dalab(['report', '--from', uri, '--experiment', 'secrets', '--out', path.join(dir, 'report')], env, dir);
    t.is(report.status, 0, report.stderr);
    outputs.push(report.stdout, report.stderr);
    // A URI that does not answer: the message names it without its credentials.
    const down = dalab(['run', file, '--set', `tracking.uri=http://bob:${secrets[0]}@127.0.0.1:9`], env, dir);
    t.is(down.status, 2);
    outputs.push(down.stdout, down.stderr);
    t.regex(down.stderr, /no MLflow server answers at http:\/\/127\.0\.0\.1:9 /);

    for (const secret of secrets) for (const text of outputs) t.false(text.includes(secret), `printed: ${secret}`);
    // Every file dalab wrote (staging folders, sweep logs, the report) and everything the server stored.
    const grep = (root: string) => {
      const hits: string[] = [];
      const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
          const p = path.join(d, e.name);
          if (p === file) continue; // the user's own experiment file
          if (e.isDirectory()) walk(p);
          else if (e.isFile()) {
            const bytes = fs.readFileSync(p);
            for (const secret of secrets) if (bytes.includes(secret) || bytes.includes(Buffer.from(`alice:${secret}`).toString('base64'))) hits.push(`${p}: ${secret}`);
          }
        }
      };
      walk(root);
      return hits;
    };
    t.deepEqual(grep(dir), [], 'in the files dalab wrote');
    t.deepEqual(grep(server.dir), [], 'in the server store (params, tags, metrics, artifacts)');
    fs.rmSync(dir, { recursive: true, force: true });
  } finally {
    await server.stop();
  }
});

serverTest('dalab sync refuses an offline run whose artifact is a symbolic link outside its folder, and delivers nothing of it', async (t) => {
  const server = new MlflowServer();
  await server.start();
  try {
    const dir = tempDir('dalab-sync-escape-');
    const store = path.join(dir, 'mlruns');
    const file = path.join(dir, 'x.yaml');
    fs.writeFileSync(file, ['name: escape', 'source: { dataset: mnist-10k }', 'target: { dataset: mnist-10k, labels: 0 }', 'model: { backbone: digitnet, input: [16, 16, 1] }', 'train: { steps: 4, batchSize: 8 }', `tracking: { uri: 'file:${store}' }`, ''].join('\n'));
    const made = dalab(['run', file, '--json'], {}, dir);
    t.is(made.status, 0, made.stderr);
    const outDir = (JSON.parse(made.stdout.trim().split('\n').pop()!) as { outDir: string }).outDir;
    const secret = path.join(dir, 'outside-secret.txt');
    fs.writeFileSync(secret, 'private');
    fs.symlinkSync(secret, path.join(outDir, 'innocent.txt'));
    const sync = dalab(['sync', store, '--to', server.uri], {}, dir);
    t.is(sync.status, 2, sync.stderr);
    t.regex(sync.stderr.trim(), /^dalab: sync: run [0-9a-f]{32}: artifact 'innocent\.txt' is a symbolic link to .*outside-secret\.txt, outside .*; nothing of this run was delivered$/);
    const client = new MlflowClient(server.uri);
    const experiments = (await client.searchExperiments()).map((e) => e.experiment_id);
    t.is((await client.searchRuns(experiments)).length, 0, 'no run reached the server');
    fs.rmSync(dir, { recursive: true, force: true });
  } finally {
    await server.stop();
  }
});

test('artifact names and listed paths are checked: no absolute path, no .., no backslash', (t) => {
  for (const bad of ['../../x', '/etc/passwd', 'a/../../b', 'a//b', './a', 'a\\..\\b', '']) t.throws(() => checkRelativePath(bad, 'artifact'), undefined, bad);
  t.is(joinInside('/tmp/run', 'figures/a.png', 'artifact'), '/tmp/run/figures/a.png');
});
