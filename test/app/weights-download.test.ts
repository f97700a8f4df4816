/**
 * `dalab weights download` (src/app/weights.ts) against a loopback HTTP server: torch.hub's cache
 * first, then DALAB_WEIGHTS_MIRROR, then the official location; a file enters dalab's cache only
 * complete and with the SHA-256 prefix its name carries.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'ava';
import { downloadWeights, weightsCache } from '../../src/app/weights.js';
import { UserError } from '../../src/messages.js';
import { serve, tempDir } from '../helpers.js';

const payload = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 17) % 251));
const prefix = createHash('sha256').update(payload).digest('hex').slice(0, 8);
const file = `fixture-${prefix}.pth`;

const envFor = (root: string, extra: Record<string, string> = {}) => ({ TORCH_HOME: path.join(root, 'torch'), DALAB_DATA: path.join(root, 'dalab', 'data'), ...extra });

test.serial('the mirror first, then the official URL; the hash prefix checked; a cached file is not fetched again', async (t) => {
  const server = await serve((req, res) => {
    if (req.url!.startsWith('/mirror/')) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'Content-Length': payload.length });
    res.end(payload);
  });
  const root = tempDir('dalab-weights-dl-');
  const env = envFor(root, { DALAB_WEIGHTS_MIRROR: `${server.url}/mirror/` });
  try {
    const got = await downloadWeights({ name: 'fixture', file, official: `${server.url}/official`, env });
    t.deepEqual(server.hits, [`/mirror/${file}`, `/official/${file}`]);
    t.true(got.fetched);
    t.is(got.file, path.join(weightsCache(env), file));
    t.true(fs.readFileSync(got.file).equals(payload));
    const again = await downloadWeights({ name: 'fixture', file, official: `${server.url}/official`, env });
    t.false(again.fetched);
    t.is(server.hits.length, 2, 'no second fetch');
  } finally {
    await server.close();
  }
});

test.serial("torch.hub's cache is used as it is, without the network", async (t) => {
  const root = tempDir('dalab-weights-dl-');
  const env = envFor(root);
  fs.mkdirSync(path.join(root, 'torch', 'hub', 'checkpoints'), { recursive: true });
  fs.writeFileSync(path.join(root, 'torch', 'hub', 'checkpoints', file), payload);
  const got = await downloadWeights({ name: 'fixture', file, official: 'http://127.0.0.1:9/unreachable', env });
  t.is(got.file, path.join(root, 'torch', 'hub', 'checkpoints', file));
  t.false(got.fetched);
});

test.serial('a wrong hash or an interrupted transfer leaves nothing in the cache', async (t) => {
  const server = await serve((req, res) => {
    res.writeHead(200, { 'Content-Length': payload.length });
    if (req.url!.includes('cut')) {
      res.write(payload.subarray(0, 40_000));
      setTimeout(() => res.socket?.destroy(), 50);
    } else res.end(Buffer.from(payload).fill(7, 0, 10));
  });
  const root = tempDir('dalab-weights-dl-');
  const env = envFor(root);
  try {
    const wrong = await t.throwsAsync(downloadWeights({ name: 'fixture', file, official: `${server.url}/bad`, env }), { instanceOf: UserError });
    t.regex(wrong!.message, new RegExp(`^weights download fixture: ${file} could not be fetched: http://127\\.0\\.0\\.1:\\d+/bad/${file}: SHA-256 [0-9a-f]{12}… does not start with ${prefix}$`));
    const cut = await t.throwsAsync(downloadWeights({ name: 'fixture', file, official: `${server.url}/cut`, env }), { instanceOf: UserError });
    t.regex(cut!.message, /could not be fetched: http:\/\/127\.0\.0\.1:\d+\/cut\//);
    t.deepEqual(fs.readdirSync(weightsCache(env)), []);
  } finally {
    await server.close();
  }
});
