/**
 * synth-digits rendering throughput (issue 5 asks for at least 2,000 images per second): renders
 * 5,000 32x32 RGB crops with a fixed seed, 3 times, and prints the median images per second.
 *
 *   npm run build && node dist/bench/synth-throughput.js
 */
import * as os from 'node:os';
import { renderSet } from '../src/data/synth.js';

const COUNT = 5000;
renderSet(200, 'bench/warmup');
const rates: number[] = [];
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  const set = renderSet(COUNT, `bench/${i}`);
  const seconds = (performance.now() - t0) / 1000;
  if (set.count !== COUNT) throw new Error('wrong count');
  rates.push(COUNT / seconds);
}
rates.sort((a, b) => a - b);
const result = { images: COUNT, repeats: 3, medianImagesPerSecond: Math.round(rates[1]!), all: rates.map(Math.round), cpu: os.cpus()[0]?.model ?? 'unknown' };
console.log(JSON.stringify(result));
console.log(`synth-digits: ${result.medianImagesPerSecond} images/s (median of 3 x ${COUNT}) on ${result.cpu}${result.medianImagesPerSecond >= 2000 ? '' : '  BELOW the 2,000 images/s target'}`);
