/**
 * Pretrained weights (src/models/weights/, src/app/weights.ts): torchvision's networks with
 * seeded random weights and random batch-norm statistics, written by torchvision itself
 * (test/fixtures/make_torchvision_weights.py, run here into a temporary folder) as torch.save's
 * zip and legacy formats and as safetensors, imported onto dalab's backbones, give PyTorch's
 * logits within 1e-4 relative (max |dalab - torch| / max |torch|): through the commands
 * (`dalab weights import` + `dalab predict`) and in-process on native TensorFlow at 64x64 and
 * 224x224, on wasm and on the cpu backend at 64x64. Hostile files exit 2 with one line and write
 * nothing.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'ava';
import { probeBackends, selectBackend } from '../../src/backend/backends.js';
import { createContainer } from '../../src/container.js';
import { WeightsService, readStateDict } from '../../src/app/weights.js';
import { TORCHVISION_MODELS, exportTorchvisionWeights } from '../../src/models/weights/torchvision.js';
import { writeSafetensors } from '../../src/models/weights/safetensors.js';
import { ROOT, dalab, tempDir } from '../helpers.js';

const NAMES = ['resnet18', 'resnet50', 'vgg16', 'alexnet', 'densenet121', 'mobilenet_v2', 'googlenet'];
const PYTHON = '/usr/bin/python3';
const inCi = process.env['CI'] === 'true';
const torchvision = spawnSync(PYTHON, ['-c', 'import torchvision'], { encoding: 'utf8' }).status === 0;
const native = (await probeBackends()).find((p) => p.name === 'tensorflow')!.loaded;
const withTorch = torchvision || inCi ? test.serial : test.serial.skip;
const withNative = (torchvision && native) || inCi ? test.serial : test.serial.skip;
if (!torchvision && !inCi) console.log('# weight-import equivalence skipped: no torchvision for /usr/bin/python3 (apt-get install python3-torchvision; npm test does it as root)');

let dir = '';
test.before(() => {
  if (!torchvision) return;
  dir = tempDir('dalab-weights-');
  const r = spawnSync(PYTHON, [path.join(ROOT, 'test/fixtures/make_torchvision_weights.py'), dir, '64,224', ...NAMES], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`fixture script failed: ${r.stderr}`);
});
test.after.always(() => {
  if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
});

const f32 = (file: string) => {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
};
function relativeError(got: Float32Array, want: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  return got.length === want.length ? diff / scale : Infinity;
}
function readNpy(file: string): { shape: number[]; data: Float32Array } {
  const b = fs.readFileSync(file);
  const headerLength = b.readUInt16LE(8);
  const header = b.subarray(10, 10 + headerLength).toString('latin1');
  const shape = /'shape': \(([^)]*)\)/.exec(header)![1]!.split(',').filter((s) => s.trim() !== '').map(Number);
  if (!header.includes("'descr': '<f4'")) throw new Error(`${file}: not a float32 .npy`);
  return { shape, data: new Float32Array(b.buffer.slice(b.byteOffset + 10 + headerLength, b.byteOffset + b.length)) };
}

const service = createContainer().get(WeightsService);

/** In-process: read, build torchvision's configuration, assign, predict the fixture images. */
function inProcess(name: string, file: string, size: number): number {
  const { backbone: family, options } = TORCHVISION_MODELS[name]!;
  const { backbone } = service.fromStateDict(file, { name: family, ...options }, [size, size, 3]);
  try {
    const set = service.split(`idx:${path.join(dir, `${name}-${size}`)}`, 'test', { format: 'dalab-checkpoint', dalab: '', backbone: { name: family }, input: [size, size, 3], numClasses: 7, normalize: 'imagenet' });
    return relativeError(service.logits(backbone, set).data, f32(path.join(dir, `${name}-${size}.logits.bin`)));
  } finally {
    backbone.encoder.dispose();
    backbone.classifier.dispose();
  }
}

withTorch('dalab weights import (.pth and .safetensors) + dalab predict give PyTorch\'s logits (resnet18 and mobilenet_v2, 64x64, the default backend)', (t) => {
  for (const name of ['resnet18', 'mobilenet_v2']) {
    for (const ext of ['.pth', '.safetensors']) {
      const out = path.join(dir, `imported-${name}${ext}`);
      const imported = dalab(['weights', 'import', path.join(dir, `${name}${ext}`), '--backbone', name, '--input', '64,64,3', '--out', out]);
      t.is(imported.status, 0, imported.stderr);
      t.regex(imported.stdout, /7 classes, input 64,64,3/);
      const meta = JSON.parse(fs.readFileSync(path.join(out, 'dalab-checkpoint.json'), 'utf8')) as { input: number[]; numClasses: number; normalize: string; backbone: { name: string } };
      t.deepEqual([meta.input, meta.numClasses, meta.normalize], [[64, 64, 3], 7, 'imagenet']);
      const npy = path.join(dir, `${name}${ext}.npy`);
      const predicted = dalab(['predict', out, '--dataset', `idx:${path.join(dir, `${name}-64`)}`, '--out', npy]);
      t.is(predicted.status, 0, predicted.stderr);
      const logits = readNpy(npy);
      t.deepEqual(logits.shape, [4, 7]);
      const error = relativeError(logits.data, f32(path.join(dir, `${name}-64.logits.bin`)));
      t.log(`${name}${ext}: relative error ${error.toExponential(2)}`);
      t.true(error < 1e-4, `${name}${ext}: ${error}`);
    }
  }
  // eval: accuracy and per-class accuracy as JSON.
  const scored = dalab(['eval', path.join(dir, 'imported-resnet18.pth'), '--dataset', `idx:${path.join(dir, 'resnet18-64')}`, '--json']);
  t.is(scored.status, 0, scored.stderr);
  const scores = JSON.parse(scored.stdout.trim()) as { accuracy: number; perClass: (number | null)[]; count: number };
  t.is(scores.count, 4);
  t.is(scores.perClass.length, 7);
});

withNative('every listed architecture on native TensorFlow: zip .pth at 64x64 and 224x224, legacy .pth and .safetensors at 64x64', async (t) => {
  await selectBackend('tensorflow');
  for (const name of NAMES) {
    for (const [variant, size] of [['.pth', 64], ['.pth', 224], ['-legacy.pth', 64], ['.safetensors', 64]] as const) {
      const error = inProcess(name, path.join(dir, `${name}${variant}`), size);
      t.log(`${name}${variant} ${size}: ${error.toExponential(2)}`);
      t.true(error < 1e-4, `${name}${variant} at ${size}: relative error ${error}`);
    }
  }
});

withTorch('every listed architecture on wasm at 64x64 (.pth)', async (t) => {
  await selectBackend('wasm');
  for (const name of NAMES) {
    const error = inProcess(name, path.join(dir, `${name}.pth`), 64);
    t.log(`${name}: ${error.toExponential(2)}`);
    t.true(error < 1e-4, `${name}: relative error ${error}`);
  }
});

withTorch('the cpu backend at 64x64 (.pth; the smaller networks: the pure-JavaScript backend takes minutes for vgg16)', async (t) => {
  await selectBackend('cpu');
  for (const name of ['resnet18', 'mobilenet_v2', 'googlenet', 'densenet121', 'alexnet']) {
    const error = inProcess(name, path.join(dir, `${name}.pth`), 64);
    t.log(`${name}: ${error.toExponential(2)}`);
    t.true(error < 1e-4, `${name}: relative error ${error}`);
  }
});

withTorch('model.from takes the .pth itself: finetune with freeze, a fresh head for the task\'s classes', (t) => {
  const store = tempDir('dalab-weights-run-');
  const data = `idx:${path.join(dir, 'resnet18-64')}`;
  const r = dalab(['run', path.join(ROOT, 'experiments/quickstart.yaml'), '--set', `source.dataset=${data}`, '--set', `target.dataset=${data}`, '--set', 'target.labels=all', '--set', 'model.backbone={name: resnet, depth: 18}', '--set', 'model.input=[64,64,3]', '--set', 'model.normalize=imagenet', '--set', `model.from=${path.join(dir, 'resnet18.pth')}`, '--set', 'adapter={name: finetune, freeze: 3}', '--set', 'train.steps=2', '--set', 'train.batchSize=4', '--set', `tracking.uri=file:${store}`, '--json']);
  t.is(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout.trim().split('\n').pop()!) as { status: string; outDir: string };
  t.is(summary.status, 'FINISHED');
  const meta = JSON.parse(fs.readFileSync(path.join(summary.outDir, 'checkpoint', 'dalab-checkpoint.json'), 'utf8')) as { backbone: { name: string; depth: number; width: number }; numClasses: number };
  // torchvision's resnet18 (width 1), the idx folder's 4 classes: a fresh head, not the file's 7-way one.
  t.deepEqual([meta.backbone.name, meta.backbone.depth, meta.backbone.width, meta.numClasses], ['resnet', 18, 1, 4]);
  fs.rmSync(store, { recursive: true, force: true });
});

withTorch('weights export: every tensor back bit for bit under torchvision\'s names; PyTorch\'s strict load_state_dict takes the file and gives the same logits', async (t) => {
  await selectBackend('wasm');
  for (const name of ['resnet18', 'alexnet', 'densenet121', 'mobilenet_v2', 'googlenet']) {
    const { backbone: family, options } = TORCHVISION_MODELS[name]!;
    const original = readStateDict(path.join(dir, `${name}.pth`)).tensors;
    const { backbone } = service.fromStateDict(path.join(dir, `${name}.pth`), { name: family, ...options }, [64, 64, 3]);
    const exported = exportTorchvisionWeights(backbone, family);
    backbone.encoder.dispose();
    backbone.classifier.dispose();
    const byName = new Map(exported.map((e) => [e.name, e]));
    t.deepEqual([...byName.keys()].sort(), original.map((o) => o.name).sort(), `${name}: the same names`);
    for (const o of original) {
      const e = byName.get(o.name)!;
      t.deepEqual(e.shape, o.shape, `${name} ${o.name}: shape`);
      if (!o.name.endsWith('num_batches_tracked')) t.true(Buffer.from(e.data.buffer).equals(Buffer.from(o.data.buffer)), `${name} ${o.name}: values`);
    }
    t.true(exported.at(-1)!.name.endsWith('.bias') && exported.at(-2)!.shape.length === 2, `${name}: the head last`);
  }
  // Through the commands: import, export, PyTorch loads the file strictly and scores the fixture images.
  for (const name of ['resnet18', 'mobilenet_v2', 'alexnet']) {
    const folder = path.join(dir, `export-${name}`);
    t.is(dalab(['weights', 'import', path.join(dir, `${name}.safetensors`), '--backbone', name, '--input', '64,64,3', '--out', folder]).status, 0);
    const file = path.join(dir, `export-${name}.safetensors`);
    const r = dalab(['weights', 'export', folder, '--out', file]);
    t.is(r.status, 0, r.stderr);
    t.regex(r.stdout, new RegExp(`as torchvision's ${name} \\(\\d+ tensors, 7 classes`));
    const bin = path.join(dir, `export-${name}.bin`);
    const py = spawnSync(PYTHON, [path.join(ROOT, 'test/fixtures/torchvision_logits.py'), file, name, path.join(dir, `${name}-64`), bin], { encoding: 'utf8' });
    t.is(py.status, 0, py.stderr);
    t.is(relativeError(f32(bin), f32(path.join(dir, `${name}-64.logits.bin`))), 0, `${name}: PyTorch on the exported file gives the fixture's logits exactly`);
  }
  // A backbone with no torchvision names: one line, nothing written.
  const store = tempDir('dalab-export-');
  const run = dalab(['run', path.join(ROOT, 'experiments/quickstart.yaml'), '--set', 'source.dataset=mnist-10k', '--set', 'adapter.name=source', '--set', 'train.steps=2', '--set', `tracking.uri=file:${store}`, '--json']);
  t.is(run.status, 0, run.stderr);
  const { outDir } = JSON.parse(run.stdout.trim().split('\n').pop()!) as { outDir: string };
  const out = path.join(store, 'digitnet.safetensors');
  const digitnet = dalab(['weights', 'export', path.join(outDir, 'checkpoint'), '--out', out]);
  t.is(digitnet.status, 2);
  t.regex(digitnet.stderr, /its backbone digitnet .* is not one of torchvision's configurations/);
  t.is(digitnet.stderr.trim().split('\n').length, 1, digitnet.stderr);
  const pth = dalab(['weights', 'export', path.join(dir, 'export-resnet18'), '--out', path.join(store, 'x.pth')]);
  t.is(pth.status, 2);
  t.regex(pth.stderr, /expected a \.safetensors file/);
  t.deepEqual(fs.readdirSync(store).filter((f) => f.endsWith('.safetensors') || f.endsWith('.pth')), [], 'nothing written');
  fs.rmSync(store, { recursive: true, force: true });
});

const TIMM = path.join(ROOT, '.dalab/python');
const timm = torchvision && spawnSync(PYTHON, ['-c', 'import timm'], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: TIMM } }).status === 0;
if (torchvision && !timm && !inCi) console.log('# timm import test skipped: no timm in .dalab/python (npm test installs it)');
(timm || inCi ? test.serial : test.serial.skip)('timm\'s resnet18 and resnet50 files import as torchvision\'s (the same names) and give timm\'s logits', async (t) => {
  await selectBackend('wasm');
  const r = spawnSync(PYTHON, [path.join(ROOT, 'test/fixtures/make_torchvision_weights.py'), dir, '64', 'timm-resnet18', 'timm-resnet50'], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: TIMM } });
  t.is(r.status, 0, r.stderr);
  for (const [name, as] of [['timm-resnet18', 'resnet18'], ['timm-resnet50', 'resnet50']] as const) {
    const { backbone: family, options } = TORCHVISION_MODELS[as]!;
    for (const ext of ['.pth', '.safetensors']) {
      const { backbone } = service.fromStateDict(path.join(dir, `${name}${ext}`), { name: family, ...options }, [64, 64, 3]);
      try {
        const set = service.split(`idx:${path.join(dir, `${name}-64`)}`, 'test', { format: 'dalab-checkpoint', dalab: '', backbone: { name: family }, input: [64, 64, 3], numClasses: 7, normalize: 'imagenet' });
        const error = relativeError(service.logits(backbone, set).data, f32(path.join(dir, `${name}-64.logits.bin`)));
        t.log(`${name}${ext}: ${error.toExponential(2)}`);
        t.true(error < 1e-4, `${name}${ext}: relative error ${error}`);
      } finally {
        backbone.encoder.dispose();
        backbone.classifier.dispose();
      }
    }
  }
});

// Hostile files: exit 2, one line naming the file and the problem, nothing written.
function hostile(t: import('ava').ExecutionContext, file: string, problem: RegExp, backbone = 'resnet18'): void {
  const out = path.join(path.dirname(file), 'never-written');
  const r = dalab(['weights', 'import', file, '--backbone', backbone, '--input', '64,64,3', '--out', out]);
  t.is(r.status, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  t.is(lines.length, 1, r.stderr);
  t.true(lines[0]!.startsWith(`dalab: ${file}: `), lines[0]);
  t.regex(lines[0]!, problem);
  t.false(fs.existsSync(out));
  t.deepEqual(fs.readdirSync(path.dirname(file)).filter((f) => f.includes('never-written')), []);
}

test('hostile safetensors: truncated, a wrong header length, a shape that does not fit', (t) => {
  const d = tempDir('dalab-hostile-');
  const good = writeSafetensors([{ name: 'fc.weight', shape: [2, 3], data: new Float32Array(6) }]);
  fs.writeFileSync(path.join(d, 'short.safetensors'), good.subarray(0, 5));
  hostile(t, path.join(d, 'short.safetensors'), /truncated/);
  fs.writeFileSync(path.join(d, 'cut.safetensors'), good.subarray(0, good.length - 4));
  hostile(t, path.join(d, 'cut.safetensors'), /truncated: tensor fc\.weight ends at byte/);
  const wrong = Buffer.from(good);
  wrong.writeBigUInt64LE(1n << 40n, 0);
  fs.writeFileSync(path.join(d, 'header.safetensors'), wrong);
  hostile(t, path.join(d, 'header.safetensors'), /header length 1099511627776 exceeds/);
  fs.writeFileSync(path.join(d, 'shape.safetensors'), writeSafetensors([{ name: 'conv1.weight', shape: [64, 3, 5, 5], data: new Float32Array(64 * 75) }, { name: 'fc.weight', shape: [10, 512], data: new Float32Array(5120) }]));
  hostile(t, path.join(d, 'shape.safetensors'), /shape mismatch: conv1\.weight \[64, 3, 5, 5\] does not fit conv1 kernel \[7, 7, 3, 64\].*missing for resnet: bn1\.weight/);
  fs.rmSync(d, { recursive: true, force: true });
});

/** A zip with one stored member (what torch.save writes, without its alignment padding). */
function zipOf(members: [string, Buffer][]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of members) {
    const n = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(n.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(n.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, n, data);
    centrals.push(central, n);
    offset += 30 + n.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

test('hostile torch files: a pickle naming another global, a zip member escaping its folder, a truncated zip', (t) => {
  const d = tempDir('dalab-hostile-');
  // pickle protocol 2: GLOBAL os.system, a string, TUPLE1, REDUCE, STOP.
  const evil = Buffer.concat([Buffer.from([0x80, 0x02]), Buffer.from('cos\nsystem\n', 'latin1'), Buffer.from([0x58, 4, 0, 0, 0]), Buffer.from('true'), Buffer.from([0x85, 0x52, 0x2e])]);
  fs.writeFileSync(path.join(d, 'evil.pth'), zipOf([['evil/data.pkl', evil]]));
  hostile(t, path.join(d, 'evil.pth'), /the pickle names the global os\.system, which a state dict does not need; refused/);
  fs.writeFileSync(path.join(d, 'escape.pth'), zipOf([['m/data.pkl', Buffer.from([0x80, 0x02, 0x7d, 0x2e])], ['m/../../etc/passwd', Buffer.from('x')]]));
  hostile(t, path.join(d, 'escape.pth'), /zip member "m\/\.\.\/\.\.\/etc\/passwd" escapes its folder/);
  const legacyEvil = Buffer.concat([Buffer.from([0x80, 0x02]), Buffer.from('c__builtin__\neval\n', 'latin1'), Buffer.from([0x2e])]);
  fs.writeFileSync(path.join(d, 'legacy.pth'), legacyEvil);
  hostile(t, path.join(d, 'legacy.pth'), /global __builtin__\.eval/);
  if (torchvision) {
    const whole = fs.readFileSync(path.join(dir, 'resnet18.pth'));
    fs.writeFileSync(path.join(d, 'truncated.pth'), whole.subarray(0, Math.floor(whole.length / 2)));
    hostile(t, path.join(d, 'truncated.pth'), /truncated|no end-of-central-directory/);
  }
  fs.rmSync(d, { recursive: true, force: true });
});

test('readStateDict reads float16 and bfloat16 safetensors', (t) => {
  const d = tempDir('dalab-st-');
  const header = JSON.stringify({ a: { dtype: 'F16', shape: [2], data_offsets: [0, 4] }, b: { dtype: 'BF16', shape: [2], data_offsets: [4, 8] } });
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(header.length));
  // 1.5 and -2 as half (0x3e00, 0xc000); 1.5 and -2 as bfloat16 (0x3fc0, 0xc000).
  const body = Buffer.from([0x00, 0x3e, 0x00, 0xc0, 0xc0, 0x3f, 0x00, 0xc0]);
  fs.writeFileSync(path.join(d, 'x.safetensors'), Buffer.concat([head, Buffer.from(header), body]));
  const { tensors } = readStateDict(path.join(d, 'x.safetensors'));
  t.deepEqual(tensors.map((x) => [x.name, x.dtype, Array.from(x.data)]), [['a', 'F16', [1.5, -2]], ['b', 'BF16', [1.5, -2]]]);
  fs.rmSync(d, { recursive: true, force: true });
});
