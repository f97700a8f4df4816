/**
 * `dalab bench --peer torch`: the same network, strategy, batch, optimiser and thread count trained
 * in PyTorch right after dalab's own measurement (bench/peer_torch.py builds the network from the
 * topology tfjs writes for dalab's encoder and classifier, so every backbone has its peer).
 *
 * The peer's trainable parameter count must equal dalab's encoder + classifier: a mismatch means
 * the two did not build the same network, and the ratio would be meaningless (an Error, not a row).
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backbone } from '../models/backbones.js';
import { UserError } from '../messages.js';

const SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bench/peer_torch.py');
export const PEER_STRATEGIES = ['source', 'dann', 'mmd'] as const;

export interface PeerRequest {
  backbone: Backbone;
  input: [number, number, number];
  strategy: string;
  /** The strategy's resolved options (dann: weight, hidden; mmd: weight). */
  options: Record<string, unknown>;
  batchSize: number;
  lr: number;
  steps: number;
  warmup: number;
  threads: number;
  device: 'cpu' | 'cuda';
}

export interface PeerResult {
  imagesPerSecond: number;
  parameters: number;
  device: string;
  torch: string;
  threads: number;
}

/**
 * The Python that runs the peer: DALAB_PEER_PYTHON, else the first of `python3` on PATH and
 * Debian's /usr/bin/python3 (where `apt-get install python3-torch` puts torch) that imports torch.
 */
export function peerPython(): { python: string } | { why: string } {
  const explicit = process.env['DALAB_PEER_PYTHON'];
  const candidates = explicit != null && explicit !== '' ? [explicit] : ['python3', '/usr/bin/python3'];
  for (const python of candidates) {
    const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
    if (probe.error == null && probe.status === 0) return { python };
  }
  return explicit != null && explicit !== ''
    ? { why: `DALAB_PEER_PYTHON=${explicit} cannot import torch` }
    : { why: 'no python3 with torch (tried python3 on PATH and /usr/bin/python3; Debian: apt-get install python3-torch, or set DALAB_PEER_PYTHON)' };
}

function trainableCount(backbone: Backbone): number {
  const count = (ws: { shape: (number | null)[] }[]) => ws.reduce((n, w) => n + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0);
  // With auxiliary heads the peer trains encoder + heads + classifier, as dalab does.
  const encoder = backbone.auxiliary?.training ?? backbone.encoder;
  return count(encoder.trainableWeights) + count(backbone.classifier.trainableWeights);
}

/** Trains the peer and returns its throughput; throws a UserError with the peer's one line on failure. */
export function runPeer(request: PeerRequest): PeerResult {
  const { backbone } = request;
  const encoder = backbone.auxiliary?.training ?? backbone.encoder;
  const spec = {
    encoder: encoder.toJSON(undefined, false),
    classifier: backbone.classifier.toJSON(undefined, false),
    auxWeight: backbone.auxiliary?.weight ?? 0,
    input: request.input,
    strategy: request.strategy,
    options: request.options,
    batchSize: request.batchSize,
    lr: request.lr,
    steps: request.steps,
    warmup: request.warmup,
    threads: request.threads,
    device: request.device,
  };
  const found = peerPython();
  if ('why' in found) throw new UserError(`--peer torch: ${found.why}`);
  const { python } = found;
  const child = spawnSync(python, [SCRIPT], { input: JSON.stringify(spec), encoding: 'utf8', maxBuffer: 16 * 2 ** 20 });
  if (child.error != null) throw new UserError(`--peer torch: ${python} could not be started (${child.error.message})`);
  const last = child.stdout.trim().split('\n').pop() ?? '';
  let parsed: Partial<PeerResult> & { error?: string };
  try {
    parsed = JSON.parse(last) as Partial<PeerResult> & { error?: string };
  } catch {
    const reason = child.stderr.trim().split('\n').pop() ?? `exit ${child.status}`;
    throw new UserError(`--peer torch: the PyTorch peer failed: ${reason}`);
  }
  if (parsed.error != null) throw new UserError(`--peer torch: the PyTorch peer failed: ${parsed.error}`);
  const result = parsed as PeerResult;
  const expected = trainableCount(backbone);
  if (result.parameters !== expected) {
    throw new Error(`--peer torch: the PyTorch ${backbone.name} has ${result.parameters} trainable parameters, dalab's ${expected}: not the same network`);
  }
  return result;
}
