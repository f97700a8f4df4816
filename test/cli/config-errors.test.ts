import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'ava';
import { dalab, tempDir, ROOT } from '../helpers.js';

const quickstart = path.join(ROOT, 'experiments/quickstart.yaml');

function writeExperiment(text: string): string {
  const file = path.join(tempDir(), 'bad.yaml');
  fs.writeFileSync(file, text);
  return file;
}

/** Each bad input: exit code 2, exactly one line on stderr naming the field, no stack trace. */
const cases: { title: string; args: () => string[]; expect: RegExp }[] = [
  { title: 'missing file', args: () => ['run', 'no/such.yaml'], expect: /^dalab: no\/such\.yaml: no such experiment file$/ },
  { title: 'YAML syntax', args: () => ['run', writeExperiment('name: [unclosed\n')], expect: /not valid YAML/ },
  { title: 'unknown top-level key', args: () => ['run', quickstart, '--set', 'trian.steps=5'], expect: /quickstart\.yaml: trian: unknown key \(allowed: name, source, target, model, adapter, train, select, tracking, sweep\)/ },
  { title: 'unknown nested key', args: () => ['run', quickstart, '--set', 'train.stpes=5'], expect: /quickstart\.yaml: train\.stpes: unknown key \(allowed: steps, batchSize/ },
  { title: 'wrong type', args: () => ['run', quickstart, '--set', 'train.steps=many'], expect: /train\.steps: expected number, received string/ },
  { title: 'negative steps', args: () => ['run', quickstart, '--set', 'train.steps=-3'], expect: /train\.steps: Too small/ },
  { title: 'enum value', args: () => ['run', quickstart, '--set', 'train.optimizer=adagrad'], expect: /train\.optimizer: must be one of "adam", "sgd"/ },
  { title: 'unknown strategy', args: () => ['run', quickstart, '--set', 'adapter.name=magic'], expect: /adapter\.name: unknown strategy 'magic' \(allowed: source, target, joint, mmd, coral, dann, distill, finetune, dsn, mcc, entmin\)/ },
  { title: 'unknown strategy option', args: () => ['run', quickstart, '--set', 'adapter.wieght=2'], expect: /adapter\.wieght: unknown key \(allowed: teacher, weight, .*\) for strategy 'distill'/ },
  { title: 'renamed dann option', args: () => ['run', quickstart, '--set', 'adapter={name: dann, gamma: 5}'], expect: /quickstart\.yaml: adapter\.gamma: renamed to adapter\.grlSpeed for strategy 'dann'/ },
  { title: 'renamed dsn option', args: () => ['run', quickstart, '--set', 'adapter={name: dsn, gamma: 0.1}'], expect: /adapter\.gamma: renamed to adapter\.similarityWeight for strategy 'dsn'/ },
  { title: 'renamed distill option', args: () => ['run', quickstart, '--set', 'adapter.rampUp=0.2'], expect: /adapter\.rampUp: renamed to adapter\.rampUpFraction for strategy 'distill'/ },
  { title: 'unknown validator', args: () => ['run', quickstart, '--set', 'select.by=accuracy'], expect: /select\.by: unknown validator 'accuracy' \(allowed: last, source-val, entropy, im, snd, oracle\)/ },
  { title: 'domain name with a path', args: () => ['run', quickstart, '--set', 'target.name=data/scans'], expect: /quickstart\.yaml: target\.name: a short name: 1-60 characters, no slash and no "->"$/ },
  { title: 'unknown backbone', args: () => ['run', quickstart, '--set', 'model.backbone=vgg99'], expect: /model\.backbone: unknown backbone 'vgg99' \(allowed: digitnet, resnet, lenet, alexnet, vgg, densenet, inception, mobilenet\)/ },
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
  { title: 'unknown key under target', args: () => ['run', quickstart, '--set', 'target.lables=5'], expect: /target\.lables: unknown key \(allowed: dataset, name, classes, relabel, labels\)$/ },
  { title: 'unknown key under select', args: () => ['run', quickstart, '--set', 'select.bye=last'], expect: /select\.bye: unknown key \(allowed: by\)$/ },
  { title: 'unknown key under tracking', args: () => ['run', quickstart, '--set', 'tracking.experimnt=x'], expect: /tracking\.experimnt: unknown key \(allowed: uri, experiment\)$/ },
  { title: 'zero batch size', args: () => ['run', quickstart, '--set', 'train.batchSize=0'], expect: /train\.batchSize: Too small: expected number to be >0$/ },
  { title: 'negative learning rate', args: () => ['run', quickstart, '--set', 'train.lr=-1'], expect: /train\.lr: Too small: expected number to be >0$/ },
  { title: 'negative label count', args: () => ['run', quickstart, '--set', 'target.labels=-1'], expect: /target\.labels: Too small: expected number to be >=0$/ },
  { title: 'zero input size', args: () => ['run', quickstart, '--set', 'model.input=[0,28,1]'], expect: /model\.input\.0: Too small: expected number to be >0$/ },
  { title: 'idx folder missing', args: () => ['run', quickstart, '--set', 'target.dataset=idx:/no/such/folder'], expect: /^dalab: target\.dataset: folder '\/no\/such\/folder' does not exist$/ },
  { title: 'unwritable tracking folder', args: () => ['run', quickstart, '--set', `tracking.uri=file:${quickstart}/store`], expect: /^dalab: tracking\.uri: 'file:.*quickstart\.yaml\/store': the folder .* cannot be written \(ENOTDIR\)$/ },
];

for (const c of cases) {
  test(`bad input exits 2 with one clear line: ${c.title}`, (t) => {
    const result = dalab(c.args());
    t.is(result.status, 2, result.stderr);
    const lines = result.stderr.trim().split('\n');
    t.is(lines.length, 1, result.stderr);
    t.regex(lines[0]!, c.expect);
    t.notRegex(result.stderr, /\n\s+at /);
    t.is(result.stdout, '');
  });
}

test('DALAB_DEBUG=1 adds the stack trace', (t) => {
  const result = dalab(['run', quickstart, '--set', 'adapter.name=magic'], { DALAB_DEBUG: '1' });
  t.is(result.status, 2);
  t.regex(result.stderr, /\n\s+at /);
});
