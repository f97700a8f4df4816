/**
 * `mnist-m-original` reads the original MNIST-M archive (mnist_m.tar.gz) by the rules of the other
 * downloadable datasets: a fixture in the authors' layout, written here as PNG files and packed by
 * GNU tar (the format the original is distributed in), read back pixel for pixel; damaged archives
 * and a missing image are one clear line.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { PNG } from 'pngjs';
import { readMnistMArchive } from '../../src/data/mnistm-original.js';
import { readTar } from '../../src/data/tar.js';
import { UserError } from '../../src/messages.js';
import { dalab, ROOT, tempDir } from '../helpers.js';

/** A pixel of image i at (x, y), channel c: every value differs between images and channels. */
const pixel = (i: number, x: number, y: number, c: number) => (i * 37 + x * 5 + y * 3 + c * 80) % 256;

/** An archive in MNIST-M's layout with `train` / `test` images of 28x28 (labels i % 10); returns its path. */
function writeArchive(dir: string, train: number, test: number, damage?: (root: string) => void): string {
  const root = path.join(dir, 'src');
  let n = 0;
  for (const [part, count] of [['train', train], ['test', test]] as const) {
    const folder = path.join(root, 'mnist_m', `mnist_m_${part}`);
    fs.mkdirSync(folder, { recursive: true });
    const lines: string[] = [];
    for (let i = 0; i < count; i++, n++) {
      const png = new PNG({ width: 28, height: 28 });
      for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) for (let c = 0; c < 4; c++) png.data[(y * 28 + x) * 4 + c] = c === 3 ? 255 : pixel(n, x, y, c);
      const name = `${String(i).padStart(8, '0')}.png`;
      fs.writeFileSync(path.join(folder, name), PNG.sync.write(png));
      lines.push(`${name} ${n % 10}`);
    }
    fs.writeFileSync(path.join(root, 'mnist_m', `mnist_m_${part}_labels.txt`), lines.join('\n') + '\n');
  }
  damage?.(root);
  const archive = path.join(dir, 'mnist_m.tar.gz');
  const tar = spawnSync('tar', ['-czf', archive, '-C', root, 'mnist_m'], { encoding: 'utf8' });
  if (tar.status !== 0) throw new Error(tar.stderr);
  return archive;
}

test('reads both splits of an archive in the authors\' layout, pixel for pixel and label for label', (t) => {
  const dir = tempDir('dalab-mnistm-');
  const { train, test: testSet } = readMnistMArchive(writeArchive(dir, 12, 5));
  t.deepEqual([train.count, train.height, train.width, train.channels], [12, 28, 28, 3]);
  t.is(testSet.count, 5);
  t.deepEqual(Array.from(train.labels), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
  t.deepEqual(Array.from(testSet.labels), [2, 3, 4, 5, 6]);
  for (const [set, offset] of [[train, 0], [testSet, 12]] as const) {
    for (const i of [0, set.count - 1]) {
      for (const [x, y, c] of [[0, 0, 0], [27, 3, 1], [5, 27, 2]] as const) t.is(set.images[((i * 28 + y) * 28 + x) * 3 + c], pixel(offset + i, x, y, c));
    }
  }
});

test('the tar reader verifies header checksums and refuses a truncated archive', (t) => {
  const dir = tempDir('dalab-mnistm-');
  const archive = fs.readFileSync(writeArchive(dir, 2, 1));
  const names = readTar(archive).map((e) => e.name).sort();
  t.true(names.includes('mnist_m/mnist_m_train_labels.txt'), names.join(', '));
  t.is(names.filter((n) => n.endsWith('.png')).length, 3);
  const raw = zlib.gunzipSync(archive);
  const flipped = Uint8Array.from(raw);
  flipped[10] = flipped[10]! ^ 0x20; // a letter of the first name: the checksum no longer matches
  t.throws(() => readTar(flipped), { message: /checksum/ });
  t.throws(() => readTar(raw.subarray(0, 1200)), { message: /not whole 512-byte tar blocks/ });
  // Cut at every block boundary: wherever the cut falls inside an image, the entry is reported truncated.
  const cuts = [];
  for (let end = 1024; end < raw.length; end += 512) {
    try {
      readTar(raw.subarray(0, end));
    } catch (error) {
      cuts.push((error as Error).message);
    }
  }
  t.true(cuts.length > 0 && cuts.every((m) => /is truncated \(\d+ bytes announced, \d+ left\)/.test(m)), cuts.join('; '));
});

test('damaged archives: a listed image missing, an undecodable image, a bad label line, a file that is not an archive', (t) => {
  const cases: [string, (root: string) => void, RegExp][] = [
    ['missing', (r) => fs.rmSync(path.join(r, 'mnist_m', 'mnist_m_test', '00000001.png')), /mnist_m\/mnist_m_test\/00000001\.png \(listed in mnist_m\/mnist_m_test_labels\.txt\) is not in the archive/],
    ['undecodable', (r) => fs.writeFileSync(path.join(r, 'mnist_m', 'mnist_m_train', '00000000.png'), 'not a png'), /mnist_m_train\/00000000\.png: cannot decode the image/],
    ['label', (r) => fs.appendFileSync(path.join(r, 'mnist_m', 'mnist_m_train_labels.txt'), '00000001.png eleven\n'), /mnist_m_train_labels\.txt line 4: '00000001\.png eleven' is not 'IMAGE\.png DIGIT'/],
  ];
  for (const [name, damage, expect] of cases) {
    const archive = writeArchive(tempDir(`dalab-mnistm-${name}-`), 3, 2, damage);
    const error = t.throws(() => readMnistMArchive(archive), { instanceOf: UserError }, name);
    t.regex(error!.message, /mnist_m\.tar\.gz: not a valid MNIST-M archive: /, name);
    t.regex(error!.message, expect, name);
  }
  const notArchive = path.join(tempDir('dalab-mnistm-'), 'mnist_m.tar.gz');
  fs.writeFileSync(notArchive, zlib.gzipSync(Buffer.from('hello, not tar')));
  t.throws(() => readMnistMArchive(notArchive), { instanceOf: UserError, message: /not a readable tar\.gz archive/ });
});

test('dalab runs on mnist-m-original from the data cache; without the file, one line says how to get it', (t) => {
  const data = tempDir('dalab-mnistm-data-');
  const store = tempDir('dalab-mnistm-store-');
  const args = ['run', path.join(ROOT, 'experiments/quickstart.yaml'), '--set', 'source.dataset=mnist-10k', '--set', 'target.dataset=mnist-m-original', '--set', 'adapter.name=source', '--set', 'model.input=[28,28,3]', '--set', 'train.steps=2', '--set', 'train.batchSize=8', '--set', `tracking.uri=file:${store}`, '--json'];
  const missing = dalab(args, { DALAB_DATA: data });
  t.is(missing.status, 2, missing.stderr);
  t.is(missing.stderr.trim().split('\n').length, 1, missing.stderr);
  t.regex(missing.stderr, /mnist-m-original.*mnist_m\.tar\.gz/);
  fs.mkdirSync(path.join(data, 'mnist-m-original'));
  fs.copyFileSync(writeArchive(tempDir('dalab-mnistm-'), 40, 20), path.join(data, 'mnist-m-original', 'mnist_m.tar.gz'));
  const ran = dalab(args, { DALAB_DATA: data });
  t.is(ran.status, 0, ran.stderr);
  const summary = JSON.parse(ran.stdout.trim().split('\n').pop()!) as { metrics: Record<string, number> };
  t.true(summary.metrics['target_test_acc']! >= 0 && summary.metrics['target_test_acc']! <= 1);
  t.regex(ran.stderr, /mnist-10k -> mnist-m-original/);
});
