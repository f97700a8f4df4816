/** `dalab bench --backbones a,b --input H,W,C`: one row per backend, backbone, input and strategy; one-line errors. */
import test from 'ava';
import { dalab } from '../helpers.js';

test('bench measures every backbone asked for at the input given (--json keeps its shape)', (t) => {
  const r = dalab(['bench', '--backends', 'wasm', '--backbones', 'digitnet,resnet', '--input', '28,28,1', '--strategies', 'source', '--steps', '2', '--json']);
  t.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { machine: string; results: { backend: string; backbone: string; input: number[]; strategy: string; imagesPerSecond: number; numTensors: number; numTensorsAfterWarmup: number }[] };
  t.true(out.machine.length > 0);
  t.deepEqual(out.results.map((x) => `${x.backend} ${x.backbone} ${x.input.join('x')} ${x.strategy}`), ['wasm digitnet 28x28x1 source', 'wasm resnet 28x28x1 source']);
  for (const x of out.results) {
    t.true(x.imagesPerSecond > 0, x.backbone);
    t.is(x.numTensors, x.numTensorsAfterWarmup, `${x.backbone} leaks no tensor across timed steps`);
  }
});

test('bench: an unknown backbone or a bad --input is one line, exit 2', (t) => {
  const unknown = dalab(['bench', '--backends', 'wasm', '--backbones', 'digitnet,vgg99', '--steps', '1']);
  t.is(unknown.status, 2);
  t.regex(unknown.stderr.trim(), /^dalab: --backbones: unknown backbone 'vgg99' \(allowed: digitnet, resnet, lenet, alexnet, vgg, densenet, inception, mobilenet\)$/);
  const input = dalab(['bench', '--backends', 'wasm', '--input', '28x28', '--steps', '1']);
  t.is(input.status, 2);
  t.regex(input.stderr.trim(), /^dalab: --input: '28x28' is not H,W,C/);
});
