/**
 * The original MNIST-M (Ganin et al. 2016) as its authors distribute it, `mnist_m.tar.gz`:
 *   mnist_m/mnist_m_train/00000000.png ...   (59,001 images, 28x28 RGB)
 *   mnist_m/mnist_m_train_labels.txt         (one line per image: "00000000.png 5")
 *   mnist_m/mnist_m_test/...  mnist_m/mnist_m_test_labels.txt   (9,001)
 * Each split is read in the order of its labels file; a missing or undecodable image, a label
 * that is not a digit, or images of different sizes are refused with the file and the problem.
 */
import * as fs from 'node:fs';
import { PNG } from 'pngjs';
import { UserError, messages } from '../messages.js';
import { readTar, type TarEntry } from './tar.js';
import type { ImageSet } from './types.js';

function split(entries: Map<string, Uint8Array>, part: 'train' | 'test', origin: string): ImageSet {
  const bad = (detail: string) => new UserError(messages.corruptMnistM(origin, detail));
  const labelsName = `mnist_m/mnist_m_${part}_labels.txt`;
  const labelsFile = entries.get(labelsName);
  if (labelsFile == null) throw bad(`no ${labelsName} in the archive`);
  const lines = Buffer.from(labelsFile).toString('utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '');
  if (lines.length === 0) throw bad(`${labelsName} lists no image`);
  let width = 0;
  let height = 0;
  let images = new Uint8Array(0);
  const labels = new Int32Array(lines.length);
  lines.forEach((line, i) => {
    const [file, label, extra] = line.split(/\s+/);
    if (file == null || label == null || extra != null || !/^[0-9]$/.test(label)) throw bad(`${labelsName} line ${i + 1}: '${line}' is not 'IMAGE.png DIGIT'`);
    const name = `mnist_m/mnist_m_${part}/${file}`;
    const bytes = entries.get(name);
    if (bytes == null) throw bad(`${name} (listed in ${labelsName}) is not in the archive`);
    let png: PNG;
    try {
      png = PNG.sync.read(Buffer.from(bytes));
    } catch (error) {
      throw bad(`${name}: cannot decode the image (${(error as Error).message})`);
    }
    if (i === 0) {
      width = png.width;
      height = png.height;
      images = new Uint8Array(lines.length * width * height * 3);
    } else if (png.width !== width || png.height !== height) throw bad(`${name} is ${png.width}x${png.height}, the first image ${width}x${height}`);
    for (let p = 0, o = i * width * height * 3; p < width * height; p++) {
      images[o++] = png.data[p * 4]!;
      images[o++] = png.data[p * 4 + 1]!;
      images[o++] = png.data[p * 4 + 2]!;
    }
    labels[i] = Number(label);
  });
  return { images, labels, count: lines.length, height, width, channels: 3 };
}

/** Both splits of mnist_m.tar.gz. */
export function readMnistMArchive(file: string): { train: ImageSet; test: ImageSet } {
  let entries: TarEntry[];
  try {
    entries = readTar(fs.readFileSync(file));
  } catch (error) {
    throw new UserError(messages.corruptMnistM(file, `not a readable tar.gz archive (${(error as Error).message})`));
  }
  const byName = new Map(entries.map((e) => [e.name.replace(/^\.\//, ''), e.data]));
  return { train: split(byName, 'train', file), test: split(byName, 'test', file) };
}
