import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'ava';
import seedrandom from 'seedrandom';
import { arc4Random } from '../../src/data/arc4.js';
import { cachedRenderSet, renderDigit, renderSet } from '../../src/data/synth.js';
import { tempDir } from '../helpers.js';

test('arc4Random gives exactly the numbers of seedrandom for string seeds', (t) => {
  for (const seed of ['', 'x', 'dalab/synth/train', 'é-ü-漢字', 'k'.repeat(700)]) {
    const a = seedrandom(seed);
    const b = arc4Random(seed);
    for (let i = 0; i < 50_000; i++) {
      const x = a();
      const y = b();
      if (x !== y) return t.fail(`seed ${JSON.stringify(seed.slice(0, 10))}: draw ${i}: ${x} vs ${y}`);
    }
  }
  t.pass();
});

test('synth-digits renders the same bytes as with seedrandom, and as recorded (golden hash)', (t) => {
  const set = renderSet(40, 'dalab/check');
  const rng = seedrandom('dalab/check');
  const one = new Uint8Array(32 * 32 * 3);
  for (let i = 0; i < 40; i++) {
    renderDigit(i % 10, rng, one);
    t.true(Buffer.from(one).equals(Buffer.from(set.images.subarray(i * 3072, (i + 1) * 3072))), `image ${i}`);
  }
  // Changing the renderer changes the dataset (and every result on it): do it on purpose only.
  t.is(createHash('sha256').update(renderSet(300, 'dalab/golden').images).digest('hex'), GOLDEN);
});

const GOLDEN = '39c5cf5dcd7d7fe396d63ea5d0a01698d642ea66bbba16cb311d79a241dfcd18';

test('a rendered split is kept in the data cache: the second load reads the same bytes; a damaged file renders afresh', (t) => {
  const root = tempDir('dalab-synth-cache-');
  const env = { DALAB_DATA: root };
  const first = cachedRenderSet(60, 'synth-digits/test-cache', env);
  const dir = path.join(root, 'synth-digits');
  const [file] = fs.readdirSync(dir);
  t.regex(file!, /^synth-digits_test-cache-60-[0-9a-f]{16}\.u8$/, 'named by seed, count and the renderer\'s hash');
  t.deepEqual(first.images, renderSet(60, 'synth-digits/test-cache').images);
  // Read back: overwrite one byte and the cached (changed) bytes come back, so the cache is what was read.
  const bytes = fs.readFileSync(path.join(dir, file!));
  bytes[0] = bytes[0]! ^ 0xff;
  fs.writeFileSync(path.join(dir, file!), bytes);
  const second = cachedRenderSet(60, 'synth-digits/test-cache', env);
  t.is(second.images[0], bytes[0]);
  t.deepEqual(second.labels, first.labels);
  // A truncated file is not used: rendered again and rewritten whole.
  fs.writeFileSync(path.join(dir, file!), bytes.subarray(0, 100));
  t.deepEqual(cachedRenderSet(60, 'synth-digits/test-cache', env).images, first.images);
  t.is(fs.statSync(path.join(dir, file!)).size, first.images.length);
  // DALAB_SYNTH_CACHE=0 never reads or writes it.
  fs.rmSync(dir, { recursive: true, force: true });
  cachedRenderSet(60, 'synth-digits/test-cache', { ...env, DALAB_SYNTH_CACHE: '0' });
  t.false(fs.existsSync(dir));
  fs.rmSync(root, { recursive: true, force: true });
});
