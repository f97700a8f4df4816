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
  t.regex(unknown.stderr.trim(), /^dalab: --backbones: unknown backbone 'vgg99' \(allowed: digitnet, resnet, lenet, lenet-da, alexnet, vgg, densenet, inception, mobilenet\)$/);
  const input = dalab(['bench', '--backends', 'wasm', '--input', '28x28', '--steps', '1']);
  t.is(input.status, 2);
  t.regex(input.stderr.trim(), /^dalab: --input: '28x28' is not H,W,C/);
});

test('bench --peer torch: the same network trained in PyTorch, ratio per row, fields kept', (t) => {
  // Two cheap backbones: on wasm a MobileNet step takes ~10 s on 2 busy cores, too slow for a test.
  const r = dalab(['bench', '--backends', 'wasm', '--backbones', 'digitnet,lenet', '--input', '28,28,1', '--strategies', 'source,dann', '--steps', '2', '--peer', 'torch', '--json']);
  if (r.status === 2 && /no python3 with torch/.test(r.stderr)) {
    t.log(r.stderr.trim());
    t.pass('skipped: no Python with torch here (.ci/run installs Debian python3-torch)');
    return;
  }
  t.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { results: { backbone: string; strategy: string; imagesPerSecond: number; numTensors: number; threads: number; peer: string; peerImagesPerSecond: number; ratioToPeer: number; peerDevice: string }[] };
  t.deepEqual(out.results.map((x) => `${x.backbone} ${x.strategy}`), ['digitnet source', 'digitnet dann', 'lenet source', 'lenet dann']);
  for (const x of out.results) {
    t.is(x.peer, 'torch');
    t.true(x.peerImagesPerSecond > 0);
    t.true(Math.abs(x.ratioToPeer - x.imagesPerSecond / x.peerImagesPerSecond) < 1e-9);
    t.regex(x.peerDevice, new RegExp(`^cpu, torch .*, ${x.threads} threads$`));
    t.true(x.numTensors > 0);
  }
});

test('bench --peer: an unknown peer or a strategy without a peer is one line, exit 2', (t) => {
  const unknown = dalab(['bench', '--backends', 'wasm', '--peer', 'jax', '--steps', '1']);
  t.is(unknown.status, 2);
  t.regex(unknown.stderr.trim(), /^dalab: --peer: unknown peer 'jax' \(allowed: torch\)$/);
  const strategy = dalab(['bench', '--backends', 'wasm', '--strategies', 'source,distill', '--peer', 'torch', '--steps', '1']);
  t.is(strategy.status, 2);
  t.regex(strategy.stderr.trim(), /^dalab: --peer torch: no PyTorch peer for strategy 'distill'/);
});
