/** Shared test helpers: backends, small experiments, temporary folders, the CLI as a user runs it. */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { validateExperiment } from '../src/config/load.js';
import type { ExperimentConfig } from '../src/config/schema.js';
import { selectBackend } from '../src/backend/backends.js';
import type { ProgressReporter } from '../src/app/progress.js';
import { createContainer, TYPES } from '../src/container.js';
import { DatasetRegistry } from '../src/data/registry.js';
import type { Validator } from '../src/train/validators/validator.js';
import type { DomainSource } from '../src/data/types.js';

tf.env().set('PROD', true);

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const container = createContainer();

/** A dataset by name, as a run loads it (the providers bound in src/container.ts). */
export function loadDataset(name: string, field = 'source.dataset'): DomainSource {
  return container.get(DatasetRegistry).load(name, field);
}

/** Every validator bound in src/container.ts (what runLoop scores). */
export const validators: readonly Validator[] = container.getAll<Validator>(TYPES.Validator);

export async function useBackend(name: 'wasm' | 'cpu'): Promise<void> {
  await selectBackend(name);
}

export function tempDir(prefix = 'dalab-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A small, fast experiment on embedded data (overridable field by field). */
export function smallExperiment(overrides: Record<string, unknown> = {}): ExperimentConfig {
  const base: Record<string, unknown> = {
    name: 'test',
    source: { dataset: 'mnist-10k' },
    target: { dataset: 'mnist-10k', labels: 0 },
    model: { backbone: 'digitnet', input: [28, 28, 1] },
    adapter: { name: 'source' },
    train: { steps: 30, batchSize: 32, optimizer: 'adam', lr: 0.001, seed: 0, evalEvery: 0, logEvery: 10 },
    select: { by: 'last' },
    tracking: { uri: `file:${tempDir()}` },
  };
  for (const [key, value] of Object.entries(overrides)) {
    const parts = key.split('.');
    let node = base as Record<string, unknown>;
    for (const part of parts.slice(0, -1)) node = node[part] as Record<string, unknown>;
    node[parts[parts.length - 1]!] = value;
  }
  return validateExperiment(base, 'test');
}

export const silentProgress: ProgressReporter = {
  status() {},
  start() {},
  step() {},
  evaluation() {},
  stop() {},
};

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `dalab ARGS` as a user would (the built CLI, a fresh process). */
export function dalab(args: string[], env: Record<string, string> = {}, cwd = ROOT, timeoutMs = 240_000): CliResult {
  const result = spawnSync(process.execPath, [path.join(ROOT, 'bin/dalab.js'), ...args], {
    cwd,
    env: { ...process.env, DALAB_BACKEND: 'wasm', ...env },
    encoding: 'utf8',
    timeout: timeoutMs,
    // dalab handles SIGTERM by stopping at the next training step: a child stuck in synchronous
    // work would outlive the timeout and block this thread (and the whole suite) for good.
    killSignal: 'SIGKILL',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** DIR/tiny.yaml: a sweep of 12-step runs on mnist-10k tracked in DIR/store, with these `sweep:` lines. */
export function writeTinySweep(dir: string, sweepLines: readonly string[]): string {
  const file = path.join(dir, 'tiny.yaml');
  fs.writeFileSync(
    file,
    [
      'name: tiny',
      'source: { dataset: mnist-10k }',
      'target: { dataset: mnist-10k, labels: 0 }',
      'model: { backbone: digitnet, input: [28, 28, 1] }',
      'adapter: { name: source }',
      'train: { steps: 12, batchSize: 16, seed: 0, evalEvery: 6 }',
      'select: { by: last }',
      `tracking: { uri: 'file:${path.join(dir, 'store')}' }`,
      'sweep:',
      ...sweepLines,
      '',
    ].join('\n'),
  );
  return file;
}

/** A loopback HTTP server (download tests): its URL, the paths asked for, and close(). */
export interface Served {
  url: string;
  close: () => Promise<void>;
  hits: string[];
}

export async function serve(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<Served> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, hits, close: () => new Promise<void>((r) => server.close(() => r())) };
}
