/**
 * Compute backend selection: tensorflow-gpu > tensorflow (native CPU) > onednn > wasm > cpu.
 *
 * The native packages are optional dependencies: when their install failed (their install script
 * downloads libtensorflow from outside the package registries) `require` throws, and we fall back,
 * keeping the reason so `dalab backends` can tell the user why.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels } from './wasm-training-kernels.js';
import { UserError, messages } from '../messages.js';
import { applyThreadLimits } from './threads.js';
import { registerNativeTrainingGradients } from './native-training-kernels.js';

const require = createRequire(import.meta.url);

// tfjs prints hints and runs checks meant for development ("install the node backend"); dalab
// reports its own backend choice (`dalab backends`, the dalab.backend tag of every run).
tf.env().set('PROD', true);

export const BACKEND_NAMES = ['tensorflow-gpu', 'tensorflow', 'onednn', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface BackendProbe {
  name: BackendName;
  description: string;
  loaded: boolean;
  /** Why it did not load (absent when it loaded). */
  reason?: string;
}

interface BackendCandidate {
  name: BackendName;
  description: string;
  /** Makes the backend available to tfjs; throws with a reason when it cannot. Returns the tfjs backend name. */
  load(): Promise<string>;
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]!.slice(0, 200);
}

/** The tfjs-node package required in this process: both builds register 'tensorflow', so only one may load. */
let nativePackage: string | null = null;

const GPU_PACKAGE = '@tensorflow/tfjs-node-gpu';

/** Whether a tfjs-node package resolves and its TensorFlow library is in place (native-install.sh ran). */
function isSetUp(pkg: string): boolean {
  try {
    return fs.existsSync(path.join(path.dirname(require.resolve(`${pkg}/package.json`)), 'deps', 'lib', 'libtensorflow_cc.so.2'));
  } catch {
    return false;
  }
}

/** The first GPU `nvidia-smi -L` lists, or null (no driver, no GPU). */
function nvidiaGpu(): string | null {
  const result = spawnSync('nvidia-smi', ['-L'], { encoding: 'utf8', timeout: 10_000 });
  if (result.status !== 0 || typeof result.stdout !== 'string') return null;
  return result.stdout.split('\n').find((l) => l.startsWith('GPU')) ?? null;
}

/**
 * tfjs-node registers the 'tensorflow' backend when it is required; the GPU build (tfjs-node-gpu,
 * `npm run native:install -- --gpu`) does the same with TensorFlow's CUDA build. The GPU build is
 * loaded only when nvidia-smi lists a GPU, and counts as tensorflow-gpu only when TensorFlow then
 * places its ops there; otherwise the CPU build (or, already loaded, the GPU build on the CPU) is
 * `tensorflow`.
 */
function nativeCandidate(name: BackendName, wanted: string, description: string): BackendCandidate {
  const gpu = wanted === GPU_PACKAGE;
  return {
    name,
    description,
    async load() {
      let pkg = wanted;
      if (nativePackage != null && nativePackage !== pkg) {
        // The other build is in this process already: on the CPU, it serves as `tensorflow`.
        if (!gpu && tf.findBackend('tensorflow') != null) return 'tensorflow';
        throw new Error(`${nativePackage} is already loaded in this process (the two builds cannot both load)`);
      }
      // Only the GPU build is set up (tfjs-node is not): on the CPU it serves as `tensorflow`.
      if (!gpu && nativePackage == null && !isSetUp(wanted) && isSetUp(GPU_PACKAGE)) {
        pkg = GPU_PACKAGE;
        this.description = `native TensorFlow on CPU (${GPU_PACKAGE}, the CUDA build: ${wanted} is not set up)`;
      }
      let resolved: string;
      try {
        resolved = require.resolve(pkg);
      } catch {
        throw new Error(`package ${pkg} is not installed (optional; see README "Native TensorFlow"${gpu ? ': npm run native:install -- --gpu' : ''})`);
      }
      if (gpu && nativePackage == null && nvidiaGpu() == null) {
        throw new Error('no NVIDIA GPU visible here (nvidia-smi lists none); the CPU build is used');
      }
      // TensorFlow's C++ logging (oneDNN and CPU-feature notices, CUDA probing) would otherwise go to stderr.
      // The CUDA build used on the CPU logs CUDA plugin errors at load time that mean nothing there.
      process.env['TF_CPP_MIN_LOG_LEVEL'] ??= pkg === GPU_PACKAGE && !gpu ? '3' : '2';
      // Thread-pool sizes from the cores and the sweep workers sharing them, oneDNN (threads.ts).
      applyThreadLimits();
      // Take GPU memory as needed instead of all of it at start (several runs may share a GPU).
      if (gpu) process.env['TF_FORCE_GPU_ALLOW_GROWTH'] ??= 'true';
      try {
        require(resolved);
      } catch (error) {
        throw new Error(`${pkg} is installed but its native binding did not load: ${firstLine(error)}`);
      }
      nativePackage = pkg;
      if (tf.findBackend('tensorflow') == null) throw new Error(`${pkg} loaded but registered no 'tensorflow' backend`);
      registerNativeTrainingGradients();
      if (gpu) {
        if (!(await tf.setBackend('tensorflow'))) throw new Error(`tfjs could not initialise ${pkg}`);
        const usesGpu = (tf.backend() as unknown as { isUsingGpuDevice?: boolean }).isUsingGpuDevice === true;
        if (!usesGpu) throw new Error('TensorFlow found no usable GPU (CUDA libraries missing? npm run native:install -- --gpu --force); it runs on the CPU as tensorflow');
        this.description = `native TensorFlow with CUDA on ${nvidiaGpu() ?? 'the GPU'} (${pkg})`;
      }
      return 'tensorflow';
    },
  };
}

const candidates: BackendCandidate[] = [
  nativeCandidate('tensorflow-gpu', GPU_PACKAGE, 'native TensorFlow with CUDA (@tensorflow/tfjs-node-gpu)'),
  nativeCandidate('tensorflow', '@tensorflow/tfjs-node', 'native TensorFlow on CPU (@tensorflow/tfjs-node)'),
  {
    name: 'onednn',
    description: 'oneDNN kernels on the cpu backend (native addon)',
    async load() {
      throw new Error('the oneDNN addon is not built in this version');
    },
  },
  {
    name: 'wasm',
    description: 'WebAssembly + SIMD (@tensorflow/tfjs-backend-wasm) with dalab training kernels',
    async load() {
      const wasm = require('@tensorflow/tfjs-backend-wasm') as { setWasmPaths(prefix: string): void };
      const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
      wasm.setWasmPaths(dist + path.sep);
      registerWasmTrainingKernels();
      return 'wasm';
    },
  },
  {
    name: 'cpu',
    description: 'pure JavaScript (slow: a few images per second for a convnet)',
    async load() {
      return 'cpu';
    },
  },
];

async function activate(candidate: BackendCandidate): Promise<void> {
  const tfName = await candidate.load();
  // The GPU and CPU builds of tfjs-node both register 'tensorflow'; for the GPU build, a missing CUDA
  // shows up only when the first op runs, so run one.
  const ok = await tf.setBackend(tfName);
  if (!ok) throw new Error(`tfjs could not initialise the '${tfName}' backend`);
  await tf.ready();
  tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(1)).dataSync());
}

let active: BackendName | null = null;

/**
 * Selects the backend: `requested` (flag or DALAB_BACKEND) if given, else the best that loads.
 * A requested backend that does not load is a user error (exit 2), not a silent fallback.
 */
export async function selectBackend(requested?: string): Promise<BackendName> {
  const wanted = requested ?? process.env['DALAB_BACKEND'];
  if (wanted != null && wanted !== '') {
    const candidate = candidates.find((c) => c.name === wanted);
    if (candidate == null) throw new UserError(messages.unknownBackend(wanted, BACKEND_NAMES));
    if (active === candidate.name) return active;
    try {
      await activate(candidate);
    } catch (error) {
      throw new UserError(messages.backendUnavailable(wanted, firstLine(error)));
    }
    active = candidate.name;
    return active;
  }
  if (active != null) return active;
  for (const candidate of candidates) {
    try {
      await activate(candidate);
      active = candidate.name;
      return active;
    } catch {
      // Try the next one; `dalab backends` shows the reasons.
    }
  }
  throw new Error('no tfjs backend could be loaded');
}

/** Which backends load here, and why the others do not. Leaves the best one active. */
export async function probeBackends(): Promise<BackendProbe[]> {
  const probes: BackendProbe[] = [];
  for (const candidate of candidates) {
    try {
      await activate(candidate);
      probes.push({ name: candidate.name, description: candidate.description, loaded: true });
    } catch (error) {
      probes.push({ name: candidate.name, description: candidate.description, loaded: false, reason: firstLine(error) });
    }
  }
  const best = probes.find((p) => p.loaded);
  if (best != null) {
    await activate(candidates.find((c) => c.name === best.name)!);
    active = best.name;
  }
  return probes;
}

/** Switches to `name` (which must load), e.g. to measure several backends in one process. */
export async function useBackend(name: BackendName): Promise<void> {
  const candidate = candidates.find((c) => c.name === name)!;
  await activate(candidate);
  active = name;
}
