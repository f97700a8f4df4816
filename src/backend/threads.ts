/**
 * How many CPU threads one dalab process computes with: `DALAB_THREADS` when set, else the cores
 * this process may use (a Slurm task's `SLURM_CPUS_PER_TASK`, else os.availableParallelism())
 * divided among the processes sharing them (`DALAB_WORKERS`, which `dalab sweep --workers N` sets
 * for its workers), at least 1. Two workers on two cores thus compute with one thread each, not two.
 *
 * Native TensorFlow reads TF_NUM_INTRAOP_THREADS / TF_NUM_INTEROP_THREADS when its first context is
 * created: `applyThreadLimits()` sets them (unless the user did) before tfjs-node loads. The PyTorch
 * peer of `dalab bench --peer torch` gets the same count.
 */
import * as os from 'node:os';

function positiveInt(value: string | undefined): number | null {
  if (value == null || value.trim() === '') return null;
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : null;
}

export function threadCount(env: NodeJS.ProcessEnv = process.env): number {
  const explicit = positiveInt(env['DALAB_THREADS']);
  if (explicit != null) return explicit;
  const cores = positiveInt(env['SLURM_CPUS_PER_TASK']) ?? os.availableParallelism();
  const workers = positiveInt(env['DALAB_WORKERS']) ?? 1;
  return Math.max(1, Math.floor(cores / workers));
}

/** Sets TensorFlow's thread-pool sizes from threadCount() and turns oneDNN on, unless already set; returns the count. */
export function applyThreadLimits(env: NodeJS.ProcessEnv = process.env): number {
  const threads = threadCount(env);
  env['TF_NUM_INTRAOP_THREADS'] ??= String(threads);
  env['TF_NUM_INTEROP_THREADS'] ??= String(threads);
  // oneDNN's convolution kernels: TensorFlow's C library leaves them off unless asked, and its own
  // (Eigen) Conv2DBackpropFilter is 2.5x slower here (digitnet step 45 -> 35 ms on 2 cores,
  // 2026-12-03). oneDNN runs on the same intra-op thread pool.
  env['TF_ENABLE_ONEDNN_OPTS'] ??= '1';
  return threads;
}
