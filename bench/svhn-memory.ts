/**
 * Memory of loading SVHN (issue 5: 73,257 training images in well under 1.5 GB resident): writes
 * full-size SVHN-shaped MAT-files with SciPy (bench/svhn-memory.py), then loads `svhn` by name in
 * a fresh process through the cache (DALAB_DATA) and reports the peak resident set size.
 *
 *   npm run build && node dist/bench/svhn-memory.js       # needs .venv with scipy (see README)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
if (process.argv[2] === '--child') {
  const { svhnDataset } = await import('../src/data/datasets/svhn.js');
  const t0 = performance.now();
  const svhn = svhnDataset.load('svhn', 'bench');
  const seconds = (performance.now() - t0) / 1000;
  const usage = process.resourceUsage();
  console.log(JSON.stringify({ train: svhn.train.count, test: svhn.test.count, seconds, maxRssMB: Math.round(usage.maxRSS / 1024), imageBytesMB: Math.round((svhn.train.images.length + svhn.test.images.length) / 1e6) }));
} else {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'dalab-svhn-bench-'));
  try {
    execFileSync(path.join(ROOT, '.venv/bin/python'), [path.join(ROOT, 'bench/svhn-memory.py'), path.join(cache, 'svhn')], { stdio: 'inherit' });
    const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child'], { env: { ...process.env, DALAB_DATA: cache } }).toString().trim();
    const result = JSON.parse(out) as { train: number; test: number; seconds: number; maxRssMB: number; imageBytesMB: number };
    console.log(out);
    console.log(`svhn: ${result.train} + ${result.test} images loaded in ${result.seconds.toFixed(1)} s, peak RSS ${result.maxRssMB} MB (images themselves ${result.imageBytesMB} MB)${result.maxRssMB < 1500 ? '' : '  ABOVE 1.5 GB'}`);
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
  }
}
