/**
 * `dalab bench`: training and evaluation throughput per backend, backbone, input shape and
 * strategy, measured with the real training step (step.ts) on random images (pixel values do not
 * change the cost). Images per second counts every image a step consumes (source + target).
 */
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import type { AdapterFactory } from '../train/adapter.js';
import type { BackboneFactory } from '../models/backbones.js';
import { trainSchema } from '../config/schema.js';
import { Stepper, beginPhasesTakeLast } from '../train/step.js';
import { sequentialBatches } from '../data/batches.js';
import type { ImageSet } from '../data/types.js';
import { probeBackends, selectBackend, useBackend, type BackendName } from '../backend/backends.js';
import { UserError, messages } from '../messages.js';
import type { ExperimentRunner } from './run-experiment.js';
import { threadCount } from '../backend/threads.js';
import { PEER_STRATEGIES, peerPython, runPeer } from './peer.js';

export interface BenchResult {
  backend: BackendName;
  backbone: string;
  input: [number, number, number];
  strategy: string;
  batchSize: number;
  steps: number;
  stepsPerSecond: number;
  imagesPerSecond: number;
  evalImagesPerSecond: number;
  numTensors: number;
  numBytes: number;
  /** numTensors after the warm-up steps; equal to numTensors when nothing leaks. */
  numTensorsAfterWarmup: number;
  /** CPU threads dalab computed with (src/backend/threads.ts); the peer gets the same. */
  threads: number;
  /** With --peer torch: the same network and strategy trained in PyTorch right after. */
  peer?: 'torch';
  peerImagesPerSecond?: number;
  /** imagesPerSecond / peerImagesPerSecond: above 1, dalab is faster. */
  ratioToPeer?: number;
  /** Where the peer ran and with what ("cpu, torch 1.13.0, 2 threads"). */
  peerDevice?: string;
}

export interface BenchOptions {
  backends: BackendName[];
  inputs: [number, number, number][];
  strategies: AdapterFactory[];
  backbone: BackboneFactory;
  batchSize: number;
  /** Timed steps per case (the pure-JS cpu backend gets a tenth, at least 2). */
  steps: number;
  warmup: number;
  /** Train the same network in PyTorch after each dalab measurement. */
  peer?: 'torch';
  onResult?: (result: BenchResult) => void;
}

export function machineDescription(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'unknown CPU'} x${cpus.length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${os.platform()}-${os.arch()}`;
}

function randomSet(count: number, [h, w, c]: [number, number, number], seed: number): ImageSet {
  const images = new Uint8Array(count * h * w * c);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < images.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    images[i] = state & 0xff;
  }
  const labels = Int32Array.from({ length: count }, (_, i) => i % 10);
  return { images, labels, count, height: h, width: w, channels: c };
}

async function measure(options: BenchOptions, backend: BackendName, input: [number, number, number], factory: AdapterFactory): Promise<BenchResult> {
  const steps = backend === 'cpu' ? Math.max(2, Math.round(options.steps / 10)) : options.steps;
  const warmup = backend === 'cpu' ? 1 : options.warmup;
  const train = trainSchema.parse({ steps: warmup + steps, batchSize: options.batchSize, seed: 0 });
  const source = randomSet(1024, input, 1);
  const targetPool = randomSet(1024, input, 2);
  // The unsupervised setting, unless the strategy needs target labels (then 10 per class).
  const targetLabelled = randomSet(factory.needs.targetLabels === 'required' || factory.needs.targetLabels === 'oracle' ? 100 : 0, input, 3);
  const backbone = options.backbone.build({ input, numClasses: 10, seed: 0 });
  const configured = factory.configure({}, 'dalab bench');
  const adapter = configured.create({ backbone, numClasses: 10, targetLabels: 10, seed: 0 });
  const stepper = new Stepper(train, beginPhasesTakeLast(adapter, train), { source, targetPool, targetLabelled }, 10);

  const run = async (from: number, count: number) => {
    for (let s = from; s < from + count; s++) {
      const { total, terms, monitors } = stepper.step(s);
      // Read the loss as the loop does at its log interval: this also waits for the device.
      if (s === from + count - 1) await total.data();
      tf.dispose([total, ...Object.values(terms), ...Object.values(monitors)]);
    }
  };
  await run(1, warmup);
  const numTensorsAfterWarmup = tf.memory().numTensors;
  const started = performance.now();
  await run(warmup + 1, steps);
  const seconds = (performance.now() - started) / 1000;
  const memory = tf.memory();

  const evalSet = randomSet(backend === 'cpu' ? 256 : 2048, input, 4);
  const evalStart = performance.now();
  for (const batch of sequentialBatches(evalSet, 256)) {
    const logits = adapter.predict(batch.x);
    await logits.data();
    logits.dispose();
    batch.x.dispose();
  }
  const evalSeconds = (performance.now() - evalStart) / 1000;
  stepper.dispose();
  const imagesPerSecond = (steps * stepper.imagesPerStep) / seconds;
  const threads = threadCount();
  let peer: Pick<BenchResult, 'peer' | 'peerImagesPerSecond' | 'ratioToPeer' | 'peerDevice'> = {};
  if (options.peer === 'torch') {
    const result = runPeer({
      backbone,
      input,
      strategy: factory.name,
      options: configured.options,
      batchSize: options.batchSize,
      lr: train.lr,
      steps,
      warmup,
      threads,
      device: backend === 'tensorflow-gpu' ? 'cuda' : 'cpu',
    });
    peer = { peer: 'torch', peerImagesPerSecond: result.imagesPerSecond, ratioToPeer: imagesPerSecond / result.imagesPerSecond, peerDevice: `${result.device}, torch ${result.torch}, ${result.threads} threads` };
  }
  adapter.dispose();
  return {
    backend,
    backbone: options.backbone.name,
    input,
    strategy: factory.name,
    batchSize: options.batchSize,
    steps,
    stepsPerSecond: steps / seconds,
    imagesPerSecond,
    evalImagesPerSecond: evalSet.count / evalSeconds,
    numTensors: memory.numTensors,
    numBytes: memory.numBytes,
    numTensorsAfterWarmup,
    threads,
    ...peer,
  };
}

export async function runBench(options: BenchOptions): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const backend of options.backends) {
    await useBackend(backend);
    for (const input of options.inputs) {
      for (const strategy of options.strategies) {
        const result = await measure(options, backend, input, strategy);
        results.push(result);
        options.onResult?.(result);
      }
    }
  }
  return results;
}

export interface BenchRequest {
  /** Comma-separated backends (default: --backend / DALAB_BACKEND, else every one that loads). */
  backends?: string;
  globalBackend?: string;
  /** Comma-separated strategy names. */
  strategies: string;
  /** Comma-separated backbone names, each at its defaults (default: digitnet). */
  backbones?: string;
  /** One input shape for every case (default: 28x28x1 and 32x32x3). */
  input?: [number, number, number];
  steps: number;
  /** `--peer torch`. */
  peer?: string;
  onResult?: (result: BenchResult) => void;
}

/** `dalab bench`: the backends and strategies asked for, each on digit inputs (the pure-JS cpu backend: the smallest case, source only). */
export async function benchCommand(runner: ExperimentRunner, request: BenchRequest): Promise<BenchResult[]> {
  let backends: BackendName[];
  if (request.backends != null) backends = request.backends.split(',').map((b) => b.trim()) as BackendName[];
  else if (request.globalBackend != null && request.globalBackend !== '') backends = [request.globalBackend as BackendName];
  else backends = (await probeBackends()).filter((p) => p.loaded).map((p) => p.name);
  // Each must load (a UserError otherwise) before anything is measured.
  for (const b of backends) await selectBackend(b);
  const wanted = request.strategies.split(',').map((s) => s.trim());
  const strategies = runner.adapterFactories().filter((f) => wanted.includes(f.name));
  if (strategies.length === 0) throw new UserError(messages.unknownAdapter(request.strategies, runner.adapterNames()));
  if (!Number.isInteger(request.steps) || request.steps < 1) throw new UserError(messages.badBenchSteps(String(request.steps)));
  if (request.peer != null) {
    if (request.peer !== 'torch') throw new UserError(messages.unknownPeer(request.peer));
    const missing = strategies.map((s) => s.name).filter((n) => !(PEER_STRATEGIES as readonly string[]).includes(n));
    if (missing.length > 0) throw new UserError(messages.noPeerStrategy(missing, PEER_STRATEGIES));
    const found = peerPython();
    if ('why' in found) throw new UserError(`--peer torch: ${found.why}`);
  }
  const bound = runner.backboneFactories();
  const backbones = (request.backbones ?? 'digitnet').split(',').map((name) => {
    const factory = bound.find((b) => b.name === name.trim());
    if (factory == null) throw new UserError(messages.unknownBackbone(name.trim(), bound.map((b) => b.name)).replace(/^model\.backbone/, '--backbones'));
    return factory;
  });
  const results: BenchResult[] = [];
  for (const backend of backends) {
    // The pure-JS cpu backend is ~100x slower: it is measured on the smallest case only.
    const inputs: [number, number, number][] = request.input != null ? [request.input] : backend === 'cpu' ? [[28, 28, 1]] : [[28, 28, 1], [32, 32, 3]];
    const cases = backend === 'cpu' ? strategies.filter((s) => s.name === 'source') : strategies;
    for (const backbone of backbones) {
      results.push(
        ...(await runBench({
          backends: [backend],
          inputs,
          strategies: cases,
          backbone,
          batchSize: 64,
          steps: request.steps,
          warmup: 5,
          ...(request.peer === 'torch' ? { peer: 'torch' as const } : {}),
          ...(request.onResult != null ? { onResult: request.onResult } : {}),
        })),
      );
    }
  }
  return results;
}
