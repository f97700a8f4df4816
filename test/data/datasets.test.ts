/**
 * Dataset readers and the cache: the SVHN MAT-file fixture (written by SciPy) decodes to exactly
 * the pixels and labels the script wrote; USPS and MAT parsers reject truncated or corrupt files;
 * folder:PATH reads PNGs; downloads through DALAB_DATA_MIRROR against a loopback HTTP server:
 * success, checksum mismatch rejected, interrupted transfer leaves nothing in the cache.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { createHash } from 'node:crypto';
import test from 'ava';
import { PNG } from 'pngjs';
import { ROOT, dalab, serve, tempDir } from '../helpers.js';
import { readSvhnFile } from '../../src/data/svhn.js';
import { decodeMat } from '../../src/data/mat.js';
import { decodeUsps, readUspsFile } from '../../src/data/usps.js';
import { loadImageFolder } from '../../src/data/folder.js';
import { downloadDataset, type DownloadableDataset } from '../../src/data/cache.js';
import { UserError } from '../../src/messages.js';

const FIXTURES = path.join(ROOT, 'test/fixtures');

for (const kind of ['uncompressed', 'compressed']) {
  test(`the ${kind} SVHN MAT-file written by scipy decodes to exactly its pixels and labels`, (t) => {
    const set = readSvhnFile(path.join(FIXTURES, `svhn-${kind}.mat`));
    const expected = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'svhn-expected.json'), 'utf8')) as { count: number; labels: number[] };
    t.is(set.count, expected.count);
    t.deepEqual([set.height, set.width, set.channels], [32, 32, 3]);
    t.deepEqual(Array.from(set.labels), expected.labels, 'label 10 became 0');
    t.true(Buffer.from(set.images).equals(fs.readFileSync(path.join(FIXTURES, 'svhn-expected.bin'))), 'NHWC pixels equal');
  });
}

test('truncated or corrupt MAT-files are rejected with a clear error', (t) => {
  const good = fs.readFileSync(path.join(FIXTURES, 'svhn-uncompressed.mat'));
  t.throws(() => decodeMat(good.subarray(0, good.length - 100), 'cut.mat'), { instanceOf: UserError, message: /cut\.mat: not a valid MAT-file: truncated/ });
  t.throws(() => decodeMat(good.subarray(0, 60), 'short.mat'), { message: /shorter than the 128-byte header/ });
  const zipped = Buffer.from(fs.readFileSync(path.join(FIXTURES, 'svhn-compressed.mat')));
  zipped.fill(0x55, 200, 400);
  t.throws(() => decodeMat(zipped, 'bad.mat'), { instanceOf: UserError, message: /does not inflate|not a valid MAT-file/ });
  const header = Buffer.from(good);
  header.write('XX', 126, 'latin1');
  t.throws(() => decodeMat(header, 'x.mat'), { message: /endian indicator/ });
});

function uspsLine(label: number, seed: number): string {
  return [label, ...Array.from({ length: 256 }, (_, i) => (((i * 7 + seed * 13) % 201) / 100 - 1).toFixed(4))].join(' ');
}

test('USPS text decodes; values in [-1, 1] become bytes; truncated or malformed files are rejected', (t) => {
  const exact = ['3', '-1', '1', '0', ...Array.from({ length: 253 }, () => '-1.0000')].join(' ');
  const text = [exact, uspsLine(0, 2)].join('\n') + '\n';
  const set = decodeUsps(text, 'zip.train');
  t.is(set.count, 2);
  t.deepEqual(Array.from(set.labels), [3, 0]);
  t.deepEqual([set.height, set.width, set.channels], [16, 16, 1]);
  t.deepEqual(Array.from(set.images.subarray(0, 4)), [0, 255, 128, 0], '-1 -> 0, 1 -> 255, 0 -> 128, row by row');
  t.throws(() => decodeUsps(text.slice(0, text.length - 40), 'zip.train'), { instanceOf: UserError, message: /zip\.train: not a valid USPS file: line 2 has \d+ values/ });
  t.throws(() => decodeUsps(uspsLine(12, 1), 'z'), { message: /label '12' is not a digit/ });
  t.throws(() => decodeUsps(uspsLine(1, 1).replace(/ -1\.0000/, ' 3.5'), 'z'), { message: /expected a number in \[-1, 1\]/ });
  const dir = tempDir();
  const gz = zlib.gzipSync(Buffer.from(text));
  fs.writeFileSync(path.join(dir, 'zip.test.gz'), gz.subarray(0, gz.length - 30));
  t.throws(() => readUspsFile(path.join(dir, 'zip.test.gz')), { instanceOf: UserError, message: /cannot decompress/ });
  fs.writeFileSync(path.join(dir, 'zip.train.gz'), gz);
  t.is(readUspsFile(path.join(dir, 'zip.train.gz')).count, 2);
});

test('folder:PATH reads train/<class>/*.png and test/<class>/*.png with labels from sorted class folders', (t) => {
  const root = tempDir();
  const write = (part: string, cls: string, name: string, value: number, rgb: boolean) => {
    const png = new PNG({ width: 5, height: 4 });
    for (let i = 0; i < 20; i++) png.data.set([value, rgb ? 255 - value : value, value, 255], i * 4);
    fs.mkdirSync(path.join(root, part, cls), { recursive: true });
    fs.writeFileSync(path.join(root, part, cls, name), PNG.sync.write(png));
  };
  write('train', '10', 'a.png', 100, false);
  write('train', '2', 'b.png', 20, false);
  write('test', '2', 'c.png', 30, false);
  write('test', '10', 'd.png', 110, false);
  const grey = loadImageFolder(root, 'target.dataset');
  t.is(grey.numClasses, 2);
  t.deepEqual([grey.train.height, grey.train.width, grey.train.channels], [4, 5, 1]);
  t.deepEqual(Array.from(grey.train.labels), [0, 1], "class '2' sorts before '10'");
  t.is(grey.train.images[0], 20);
  t.is(grey.test.images[0], 30);
  write('test', '2', 'e.png', 40, true);
  const mixed = loadImageFolder(root, 'target.dataset');
  t.is(mixed.test.channels, 3);
  t.is(mixed.train.channels, 3, 'a domain has one channel count');
  fs.rmSync(path.join(root, 'test'), { recursive: true });
  t.throws(() => loadImageFolder(root, 'target.dataset'), { instanceOf: UserError, message: /has no test\/ folder/ });
});

const payload = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 31) % 256));
const entry = (md5: string): DownloadableDataset => ({ name: 'fixture', description: 'fixture', files: [{ name: 'data.bin', urls: ['http://127.0.0.1:9/unreachable/data.bin'], md5 }] });
const goodMd5 = createHash('md5').update(payload).digest('hex');

test.serial('download through DALAB_DATA_MIRROR: the file enters the cache only complete and with its checksum', async (t) => {
  const server = await serve((_req, res) => {
    res.writeHead(200, { 'Content-Length': payload.length });
    res.end(payload);
  });
  const cache = tempDir('dalab-data-');
  const env = { DALAB_DATA: cache, DALAB_DATA_MIRROR: `${server.url}/mirror/` };
  try {
    const result = await downloadDataset(entry(goodMd5), { env });
    t.deepEqual(result.fetched, ['data.bin']);
    t.deepEqual(server.hits, ['/mirror/fixture/data.bin'], 'the mirror is tried first');
    t.true(fs.readFileSync(path.join(cache, 'fixture', 'data.bin')).equals(payload));
    const again = await downloadDataset(entry(goodMd5), { env });
    t.deepEqual(again.present, ['data.bin']);
    t.is(server.hits.length, 1, 'a cached file is not fetched again');
    // A checksum mismatch: rejected, nothing enters the cache.
    const other = tempDir('dalab-data-');
    const error = await t.throwsAsync(downloadDataset(entry('0'.repeat(32)), { env: { ...env, DALAB_DATA: other } }), { instanceOf: UserError });
    t.regex(error!.message, /data download fixture: data\.bin could not be fetched: .*checksum mismatch: md5 [0-9a-f]{32}, expected 0{32}/);
    t.deepEqual(fs.readdirSync(path.join(other, 'fixture')), []);
  } finally {
    await server.close();
  }
});

test.serial('an interrupted transfer leaves nothing in the cache, not even a partial file', async (t) => {
  const server = await serve((_req, res) => {
    res.writeHead(200, { 'Content-Length': payload.length });
    res.write(payload.subarray(0, 50_000));
    setTimeout(() => res.socket?.destroy(), 50);
  });
  const cache = tempDir('dalab-data-');
  try {
    const error = await t.throwsAsync(downloadDataset(entry(goodMd5), { env: { DALAB_DATA: cache, DALAB_DATA_MIRROR: server.url } }), { instanceOf: UserError });
    t.regex(error!.message, /data\.bin could not be fetched: http:\/\/127\.0\.0\.1:\d+\/fixture\/data\.bin: /);
    t.deepEqual(fs.readdirSync(path.join(cache, 'fixture')), []);
  } finally {
    await server.close();
  }
});

test('offline: dalab data download svhn fails with one line, exit 2; a run on svhn stops at once naming the command', (t) => {
  const cache = tempDir('dalab-data-');
  const env = { DALAB_DATA: cache, DALAB_DATA_MIRROR: 'http://127.0.0.1:1' };
  const r = dalab(['data', 'download', 'svhn'], env);
  t.is(r.status, 2);
  t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  t.regex(r.stderr, /^dalab: data download svhn: train_32x32\.mat could not be fetched: http:\/\/127\.0\.0\.1:1\/svhn\/train_32x32\.mat: /);
  t.deepEqual(fs.readdirSync(path.join(cache, 'svhn')), []);
  const run = dalab(['run', path.join(ROOT, 'experiments/quickstart.yaml'), '--set', 'target.dataset=svhn'], env);
  t.is(run.status, 2);
  t.is(run.stderr.trim(), `dalab: target.dataset: dataset 'svhn' is not downloaded (missing train_32x32.mat, test_32x32.mat in ${path.join(cache, 'svhn')}); run: dalab data download svhn`);
  const list = dalab(['data', 'list', '--json'], env);
  const listed = JSON.parse(list.stdout) as { datasets: { name: string; present: boolean }[] };
  t.deepEqual(
    listed.datasets.map((d) => `${d.name}:${d.present}`),
    ['mnist-10k:true', 'synth-digits:true', 'mnist-m:true', 'mnist-m-original:false', 'mnist:false', 'svhn:false', 'usps:false', 'idx:PATH:true', 'folder:PATH:true'],
  );
});

test('dalab data import checks files like a download; the dataset then loads by name', (t) => {
  const cache = tempDir('dalab-data-');
  const from = tempDir();
  const lines = Array.from({ length: 30 }, (_, i) => uspsLine(i % 10, i)).join('\n') + '\n';
  fs.writeFileSync(path.join(from, 'zip.train.gz'), zlib.gzipSync(Buffer.from(lines)));
  t.is(dalab(['data', 'import', 'usps', from], { DALAB_DATA: cache }).status, 2, 'zip.test.gz missing');
  fs.writeFileSync(path.join(from, 'zip.test.gz'), zlib.gzipSync(Buffer.from(lines)));
  const r = dalab(['data', 'import', 'usps', from], { DALAB_DATA: cache });
  t.is(r.status, 0, r.stderr);
  const info = dalab(['data', 'info', 'usps'], { DALAB_DATA: cache });
  t.is(info.status, 0, info.stderr);
  t.regex(info.stdout, /train\s+\d+ images 16x16x1/);
  t.regex(info.stdout, /test\s+30 images 16x16x1/);
});

test('task shift: classes keep a subset (numbered by position), relabel parity or by a map', async (t) => {
  const { loadDataset } = await import('../helpers.js');
  const { applyTask } = await import('../../src/data/task.js');
  const mnist = loadDataset('mnist-10k', 'target.dataset');
  const count = (labels: Int32Array, v: number) => labels.filter((l) => l === v).length;
  const high = applyTask(mnist, { classes: [5, 6, 7, 8, 9] }, 'target');
  t.is(high.numClasses, 5);
  t.is(high.train.count, [5, 6, 7, 8, 9].reduce((n, c) => n + count(mnist.train.labels, c), 0));
  t.is(count(high.train.labels, 0), count(mnist.train.labels, 5));
  const parity = applyTask(mnist, { relabel: 'parity' }, 'target');
  t.is(parity.numClasses, 2);
  t.is(parity.test.count, mnist.test.count);
  t.is(count(parity.test.labels, 1), [1, 3, 5, 7, 9].reduce((n, c) => n + count(mnist.test.labels, c), 0));
  const mapped = applyTask(mnist, { classes: [3, 8], relabel: { '3': 1, '8': 0 } }, 'target');
  t.is(count(mapped.train.labels, 1), count(mnist.train.labels, 3));
  t.throws(() => applyTask(mnist, { classes: [3, 12] }, 'target'), { instanceOf: UserError, message: /target\.classes: class 12 does not exist in mnist-10k/ });
  t.throws(() => applyTask(mnist, { classes: [3, 8], relabel: { '3': 1 } }, 'target'), { message: /target\.relabel: no new label for class 8/ });
});

test('svhn loads by name from the cache (the scipy fixture as train_32x32.mat / test_32x32.mat)', (t) => {
  const cache = tempDir('dalab-data-');
  fs.mkdirSync(path.join(cache, 'svhn'));
  for (const name of ['train_32x32.mat', 'test_32x32.mat']) fs.copyFileSync(path.join(FIXTURES, 'svhn-compressed.mat'), path.join(cache, 'svhn', name));
  const info = dalab(['data', 'info', 'svhn'], { DALAB_DATA: cache });
  t.is(info.status, 0, info.stderr);
  t.regex(info.stdout, /train_32x32\.mat .* md5 [0-9a-f]{32} \(expected e26dedcc434d2e4c54c9b2d4a06d8373\)/);
  t.regex(info.stdout, /train\s+7 images 32x32x3/);
  t.regex(info.stdout, /test\s+7 images 32x32x3\s+per class 2\/1\/1\/1\/1\/1/);
  const list = JSON.parse(dalab(['data', 'list', '--json'], { DALAB_DATA: cache }).stdout) as { datasets: { name: string; present: boolean }[] };
  t.true(list.datasets.find((d) => d.name === 'svhn')!.present);
});

test('mnist loads by name from the cache: the official IDX file names, gzipped', async (t) => {
  const { encodeIdx } = await import('../../src/data/idx.js');
  const cache = tempDir('dalab-data-');
  const dir = path.join(cache, 'mnist');
  fs.mkdirSync(dir);
  const images = (n: number) => encodeIdx([n, 28, 28], Uint8Array.from({ length: n * 784 }, (_, i) => i % 251));
  const labels = (n: number) => encodeIdx([n], Uint8Array.from({ length: n }, (_, i) => i % 10));
  fs.writeFileSync(path.join(dir, 'train-images-idx3-ubyte.gz'), zlib.gzipSync(images(40)));
  fs.writeFileSync(path.join(dir, 'train-labels-idx1-ubyte.gz'), zlib.gzipSync(labels(40)));
  fs.writeFileSync(path.join(dir, 't10k-images-idx3-ubyte.gz'), zlib.gzipSync(images(20)));
  fs.writeFileSync(path.join(dir, 't10k-labels-idx1-ubyte.gz'), zlib.gzipSync(labels(20)));
  const info = dalab(['data', 'info', 'mnist'], { DALAB_DATA: cache });
  t.is(info.status, 0, info.stderr);
  t.regex(info.stdout, /classes: 10/);
  t.regex(info.stdout, /test\s+20 images 28x28x1\s+per class 2\/2\/2\/2\/2\/2\/2\/2\/2\/2/);
});
