import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'ava';
import * as zlib from 'node:zlib';
import { PNG } from 'pngjs';
import { spawn } from 'node:child_process';
import { dalab, tempDir, ROOT } from '../helpers.js';

const quickstart = path.join(ROOT, 'experiments/quickstart.yaml');

function writeExperiment(text: string): string {
  const file = path.join(tempDir(), 'bad.yaml');
  fs.writeFileSync(file, text);
  return file;
}

/** Broken data files, written once (each case names its own). */
const bad = tempDir('dalab-bad-data-');
const idxImages = (count: number, size: number, bytes = count * size * size) => Buffer.concat([Buffer.from([0, 0, 8, 3]), u32(count), u32(size), u32(size), Buffer.alloc(bytes)]);
const idxLabels = (labels: number[]) => Buffer.concat([Buffer.from([0, 0, 8, 1]), u32(labels.length), Buffer.from(labels)]);
function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
}
function writeFiles(root: string, files: Record<string, Buffer | string>): string {
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), content);
  }
  return root;
}
const png = (width: number, height: number) => PNG.sync.write(new PNG({ width, height }));
/** A folder dataset of 8x8 PNGs (two classes, train and test) plus `extra` files. */
function imageFolder(name: string, extra: Record<string, Buffer>): string {
  const files: Record<string, Buffer> = {};
  for (const split of ['train', 'test']) for (const c of ['0', '1']) for (const i of [0, 1, 2]) files[`${split}/${c}/${i}.png`] = png(8, 8);
  return writeFiles(path.join(bad, name), { ...files, ...extra });
}
const truncatedIdx = writeFiles(path.join(bad, 'idx-truncated'), {
  'train-images-idx3-ubyte': idxImages(100, 28, 50),
  'train-labels-idx1-ubyte': idxLabels(Array(100).fill(1)),
  'test-images-idx3-ubyte': idxImages(10, 28),
  'test-labels-idx1-ubyte': idxLabels(Array(10).fill(1)),
});
const labelsOutOfRange = writeFiles(path.join(bad, 'idx-labels'), {
  'train-images-idx3-ubyte': idxImages(40, 28),
  'train-labels-idx1-ubyte': idxLabels(Array.from({ length: 40 }, (_, i) => (i === 3 ? 57 : i % 10))),
  'test-images-idx3-ubyte': idxImages(10, 28),
  'test-labels-idx1-ubyte': idxLabels(Array.from({ length: 10 }, (_, i) => i)),
});
const corruptPng = imageFolder('png', { 'train/1/broken.png': png(8, 8).subarray(0, 40) });
const corruptJpeg = imageFolder('jpeg', { 'train/1/broken.jpg': Buffer.from([0xff, 0xd8, 0xff, 0xe0, ...Array(20).fill(0)]) });
const mixedSizes = imageFolder('sizes', { 'train/1/big.png': png(12, 10) });
// Downloadable datasets read from DALAB_DATA: a damaged SVHN .mat and USPS file in their places.
const dataDir = writeFiles(path.join(bad, 'data'), {
  'svhn/train_32x32.mat': Buffer.concat([Buffer.from('MATLAB 5.0 MAT-file'), Buffer.alloc(200)]),
  'svhn/test_32x32.mat': Buffer.concat([Buffer.from('MATLAB 5.0 MAT-file'), Buffer.alloc(200)]),
  'usps/zip.train.gz': zlib.gzipSync('1 0.5 0.5\n'),
  'usps/zip.test.gz': 'not gzip',
});
// An MLflow server that refuses the credentials: 401 under /401, 403 under /403. In its own process:
// the cases run dalab with spawnSync, which blocks this thread.
const refusingProcess = spawn(
  process.execPath,
  [
    '-e',
    `require('http').createServer((req, res) => { res.writeHead(req.url.startsWith('/403') ? 403 : 401, { 'Content-Type': 'application/json' }); res.end('{"error_code":"PERMISSION_DENIED","message":"no"}'); }).listen(0, '127.0.0.1', function () { console.log(this.address().port); });`,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const refusing = { url: `http://127.0.0.1:${await new Promise<string>((resolve) => refusingProcess.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim())))}` };
test.after.always(() => refusingProcess.kill());

/** Each bad input: exit code 2, exactly one line on stderr naming the field, no stack trace, no run in the tracker. */
const cases: { title: string; args: () => string[]; expect: RegExp }[] = [
  { title: 'missing file', args: () => ['run', 'no/such.yaml'], expect: /^dalab: no\/such\.yaml: no such experiment file$/ },
  { title: 'a folder as the experiment file', args: () => ['run', 'experiments'], expect: /^dalab: experiments: a folder, not an experiment file \(it holds \d+ \.yaml files: compare-backbones\.yaml, compare-strategies\.yaml, defaults-validation-2\.yaml, \.\.\.\)$/ },
  { title: 'YAML syntax (line and column)', args: () => ['run', writeExperiment('name: x\nsource: { dataset: mnist-10k\ntarget: x\n')], expect: /^dalab: .*bad\.yaml:3:1: not valid YAML: Flow map in block collection must be sufficiently indented and end with a }$/ },
  { title: 'unknown top-level key', args: () => ['run', quickstart, '--set', 'trian.steps=5'], expect: /quickstart\.yaml: trian: unknown key \(allowed: name, source, target, model, adapter, train, select, tracking, reference, sweep\)/ },
  { title: 'unknown nested key', args: () => ['run', quickstart, '--set', 'train.stpes=5'], expect: /quickstart\.yaml: train\.stpes: unknown key \(allowed: steps, batchSize/ },
  { title: 'wrong type', args: () => ['run', quickstart, '--set', 'train.steps=many'], expect: /train\.steps: expected number, received string/ },
  { title: 'negative steps', args: () => ['run', quickstart, '--set', 'train.steps=-3'], expect: /train\.steps: Too small/ },
  { title: 'enum value', args: () => ['run', quickstart, '--set', 'train.optimizer=adagrad'], expect: /train\.optimizer: must be one of "adam", "sgd"/ },
  { title: 'unknown strategy', args: () => ['run', quickstart, '--set', 'adapter.name=magic'], expect: /adapter\.name: unknown strategy 'magic' \(allowed: source, target, joint, mmd, coral, dann, distill, finetune, dsn, mcc, entmin, bnm, adabn, selftrain, cdan, mcd, adda, shot\)/ },
  { title: 'unknown strategy option', args: () => ['run', quickstart, '--set', 'adapter.wieght=2'], expect: /adapter\.wieght: unknown key \(allowed: teacher, weight, .*\) for strategy 'distill'/ },
  { title: 'renamed dann option', args: () => ['run', quickstart, '--set', 'adapter={name: dann, gamma: 5}'], expect: /quickstart\.yaml: adapter\.gamma: renamed to adapter\.grlSpeed for strategy 'dann'/ },
  { title: 'renamed dsn option', args: () => ['run', quickstart, '--set', 'adapter={name: dsn, gamma: 0.1}'], expect: /adapter\.gamma: renamed to adapter\.similarityWeight for strategy 'dsn'/ },
  { title: 'renamed distill option', args: () => ['run', quickstart, '--set', 'adapter.rampUp=0.2'], expect: /adapter\.rampUp: renamed to adapter\.rampUpFraction for strategy 'distill'/ },
  { title: 'unknown validator', args: () => ['run', quickstart, '--set', 'select.by=accuracy'], expect: /select\.by: unknown validator 'accuracy' \(allowed: last, source-val, entropy, im, snd, dev, oracle\)/ },
  { title: 'domain name with a path', args: () => ['run', quickstart, '--set', 'target.name=data/scans'], expect: /quickstart\.yaml: target\.name: a short name: 1-60 characters, no slash and no "->"$/ },
  { title: 'unknown backbone', args: () => ['run', quickstart, '--set', 'model.backbone=vgg99'], expect: /model\.backbone: unknown backbone 'vgg99' \(allowed: digitnet, resnet, lenet, lenet-da, alexnet, vgg, densenet, inception, mobilenet\)/ },
  { title: 'backbone option', args: () => ['run', quickstart, '--set', 'model.backbone={name: resnet, depth: 21}'], expect: /quickstart\.yaml: model\.backbone\.depth: basic blocks need depth 6n\+2 .*got 21 for backbone 'resnet'$/ },
  { title: 'unknown backbone option', args: () => ['run', quickstart, '--set', 'model.backbone={name: digitnet, depth: 3}'], expect: /model\.backbone\.depth: unknown key .*for backbone 'digitnet'/ },
  { title: 'models --input', args: () => ['models', '--input', '28,28'], expect: /--input: '28,28' is not H,W,C/ },
  { title: 'unknown dataset', args: () => ['run', quickstart, '--set', 'target.dataset=cifar'], expect: /target\.dataset: unknown dataset 'cifar'/ },
  { title: 'joint without labels', args: () => ['run', quickstart, '--set', 'adapter.name=joint'], expect: /target\.labels: strategy 'joint' needs labelled target images/ },
  { title: 'finetune without labels', args: () => ['run', quickstart, '--set', 'adapter.name=finetune'], expect: /target\.labels: strategy 'finetune' needs labelled target images/ },
  { title: 'model.from not found', args: () => ['run', quickstart, '--set', 'target.labels=5', '--set', 'adapter.name=finetune', '--set', 'model.from=/no/such/run'], expect: /model\.from: '\/no\/such\/run' is neither a run id/ },
  { title: 'sweep axis not a list', args: () => ['sweep', path.join(ROOT, 'experiments/paper-figures.yaml'), '--set', 'sweep.train=1'], expect: /paper-figures\.yaml: sweep\.train: expected array, received number/ },
  { title: 'sweep grid axis not a list', args: () => ['sweep', path.join(ROOT, 'experiments/compare-strategies.yaml'), '--set', 'sweep=[{train.seed: [1]}, {train.seed: 2}]'], expect: /compare-strategies\.yaml: sweep\.1\.train\.seed: expected array, received number/ },
  { title: 'bad --set syntax', args: () => ['run', quickstart, '--set', 'train.steps'], expect: /--set train\.steps: expected key=value/ },
  { title: 'input shape', args: () => ['run', quickstart, '--set', 'model.input=[28,28,2]'], expect: /model\.input\.2/ },
  { title: 'unknown backend', args: () => ['--backend', 'tpu', 'run', quickstart, '--set', 'train.steps=1'], expect: /--backend: unknown backend 'tpu'/ },
  { title: 'tracking uri scheme', args: () => ['run', quickstart, '--set', 'tracking.uri=s3://bucket'], expect: /tracking\.uri: 's3:\/\/bucket' must start with file: or http/ },
  { title: 'empty file', args: () => ['run', writeExperiment('')], expect: /bad\.yaml: an experiment file must be a YAML mapping \(key: value\)$/ },
  { title: 'a section of the wrong type', args: () => ['run', quickstart, '--set', 'source=5'], expect: /quickstart\.yaml: source: expected object, received number$/ },
  { title: 'unknown key under model', args: () => ['run', quickstart, '--set', 'model.foo=1'], expect: /model\.foo: unknown key \(allowed: backbone, input, normalize, from\)$/ },
  { title: 'unknown key under target', args: () => ['run', quickstart, '--set', 'target.lables=5'], expect: /target\.lables: unknown key \(allowed: dataset, name, classes, relabel, labels, priors\)$/ },
  { title: 'unknown key under select', args: () => ['run', quickstart, '--set', 'select.bye=last'], expect: /select\.bye: unknown key \(allowed: by\)$/ },
  { title: 'unknown key under tracking', args: () => ['run', quickstart, '--set', 'tracking.experimnt=x'], expect: /tracking\.experimnt: unknown key \(allowed: uri, experiment, fallback\)$/ },
  { title: 'zero batch size', args: () => ['run', quickstart, '--set', 'train.batchSize=0'], expect: /train\.batchSize: Too small: expected number to be >0$/ },
  { title: 'negative learning rate', args: () => ['run', quickstart, '--set', 'train.lr=-1'], expect: /train\.lr: Too small: expected number to be >0$/ },
  { title: 'negative label count', args: () => ['run', quickstart, '--set', 'target.labels=-1'], expect: /target\.labels: Too small: expected number to be >=0$/ },
  { title: 'target.priors of the wrong length', args: () => ['run', quickstart, '--set', 'target.priors=[0.5, 0.5]'], expect: /target\.priors: 2 proportions for 10 classes of mnist-10k/ },
  { title: 'a negative target prior', args: () => ['run', quickstart, '--set', 'target.priors=[0.5, -0.5]'], expect: /target\.priors\.1: Too small: expected number to be >=0/ },
  { title: 'zero input size', args: () => ['run', quickstart, '--set', 'model.input=[0,28,1]'], expect: /model\.input\.0: Too small: expected number to be >0$/ },
  { title: 'idx folder missing', args: () => ['run', quickstart, '--set', 'target.dataset=idx:/no/such/folder'], expect: /^dalab: target\.dataset: folder '\/no\/such\/folder' does not exist$/ },
  { title: 'corrupt IDX file', args: () => ['run', quickstart, '--set', `target.dataset=idx:${truncatedIdx}`], expect: /^dalab: .*idx-truncated\/train-images-idx3-ubyte: not a valid IDX file: truncated: header promises 78400 bytes of data, file has 50$/ },
  { title: 'corrupt MAT file', args: () => ['run', quickstart, '--set', 'target.dataset=svhn'], expect: /^dalab: .*svhn\/train_32x32\.mat: not a valid MAT-file: not a level-5 MAT-file \(endian indicator "\\u0000\\u0000", expected "IM" or "MI"\)$/ },
  { title: 'corrupt PNG file', args: () => ['run', quickstart, '--set', `target.dataset=folder:${corruptPng}`], expect: /^dalab: .*png\/train\/1\/broken\.png: cannot decode the image/ },
  { title: 'corrupt JPEG file', args: () => ['run', quickstart, '--set', `target.dataset=folder:${corruptJpeg}`], expect: /^dalab: .*jpeg\/train\/1\/broken\.jpg: cannot decode the image/ },
  { title: 'corrupt USPS file', args: () => ['run', quickstart, '--set', 'target.dataset=usps'], expect: /^dalab: .*usps\/zip\.train\.gz: not a valid USPS file: line 1 has 3 values \(expected 257: a label and 256 pixels\)$/ },
  { title: 'labels out of range', args: () => ['run', quickstart, '--set', `target.dataset=idx:${labelsOutOfRange}`], expect: /^dalab: target\.dataset: idx:.*idx-labels has label 57, outside the source's 10 classes \(0-9 in synth-digits\); choose or map classes with target\.classes \/ target\.relabel$/ },
  { title: 'images of different sizes in a folder', args: () => ['run', quickstart, '--set', `target.dataset=folder:${mixedSizes}`], expect: /^dalab: target\.dataset: .*sizes\/train\/1\/big\.png is 12x10, the other images 8x8 \(one size per domain; model\.input resizes\)$/ },
  { title: 'an input a backbone cannot take', args: () => ['run', quickstart, '--set', 'model.backbone={name: alexnet, variant: torchvision}', '--set', 'model.input=[8,8,3]'], expect: /^dalab: model\.input: backbone 'alexnet' cannot take \[8, 8, 3\] inputs: layer '.*' would output \[N, 0, 0, 64\]; use a larger model\.input$/ },
  { title: 'a server refusing the credentials (401)', args: () => ['run', quickstart, '--set', `tracking.uri=${refusing.url}/401`], expect: /^dalab: tracking\.uri: http:\/\/127\.0\.0\.1:\d+\/401 refused the credentials \(HTTP 401 Unauthorized\); set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN$/ },
  { title: 'a server refusing the credentials (403), user:password@ never shown', args: () => ['run', quickstart, '--set', `tracking.uri=${refusing.url.replace('//', '//alice:s3cret@')}/403`], expect: /^dalab: tracking\.uri: http:\/\/127\.0\.0\.1:\d+\/403 refused the credentials \(HTTP 403 Forbidden\)/ },
  { title: 'an unreachable tracking server', args: () => ['run', quickstart, '--set', 'tracking.uri=http://127.0.0.1:9'], expect: /^dalab: tracking\.uri: no MLflow server answers at http:\/\/127\.0\.0\.1:9 \(cannot reach http:\/\/127\.0\.0\.1:9: .*\); check the URI, or set tracking\.fallback: offline/ },
  { title: 'huge step count', args: () => ['run', quickstart, '--set', 'train.steps=1e12'], expect: /^dalab: .*quickstart\.yaml: train\.steps: Too big: expected number to be <=100000000$/ },
  { title: 'a sweep axis with no values', args: () => ['sweep', quickstart, '--set', 'sweep={train.seed: []}'], expect: /^dalab: .*quickstart\.yaml: sweep\.train\.seed: Too small: expected array to have >=1 items$/ },
  { title: 'unwritable tracking folder', args: () => ['run', quickstart, '--set', `tracking.uri=file:${quickstart}/store`], expect: /^dalab: tracking\.uri: 'file:.*quickstart\.yaml\/store': the folder .* cannot be written \(ENOTDIR\)$/ },
];

/** Run folders (a meta.yaml two levels down) in a file store. */
const runsIn = (store: string) => (fs.existsSync(store) ? fs.readdirSync(store).flatMap((e) => (fs.statSync(path.join(store, e)).isDirectory() ? fs.readdirSync(path.join(store, e)).filter((r) => fs.existsSync(path.join(store, e, r, 'meta.yaml'))) : [])) : []);

test('the bad-input table has at least 40 cases', (t) => {
  t.true(cases.length >= 40, `${cases.length} cases`);
});

for (const c of cases) {
  test(`bad input exits 2 with one clear line: ${c.title}`, (t) => {
    // Where the run would be tracked (the cases that name no tracking.uri), and the datasets' folder.
    const store = tempDir('dalab-bad-store-');
    const result = dalab(c.args(), { MLFLOW_TRACKING_URI: `file:${store}`, DALAB_DATA: dataDir });
    t.is(result.status, 2, result.stderr);
    const lines = result.stderr.trim().split('\n');
    t.is(lines.length, 1, result.stderr);
    t.regex(lines[0]!, c.expect);
    t.notRegex(result.stderr, /\n\s+at /);
    t.notRegex(result.stderr, /s3cret|alice/, 'no credentials');
    t.is(result.stdout, '');
    t.deepEqual(runsIn(store), [], 'no run in the tracker');
    fs.rmSync(store, { recursive: true, force: true });
  });
}

test('DALAB_DEBUG=1 adds the stack trace', (t) => {
  const result = dalab(['run', quickstart, '--set', 'adapter.name=magic'], { DALAB_DEBUG: '1' });
  t.is(result.status, 2);
  t.regex(result.stderr, /\n\s+at /);
});
