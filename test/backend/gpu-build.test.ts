/**
 * The two native builds (scripts/native-install.sh; `--gpu` for @tensorflow/tfjs-node-gpu): the
 * library under tfjs-node is TensorFlow's CPU-only build, the one under tfjs-node-gpu its CUDA build
 * (scripts/tf-kernel-devices.c counts the kernels registered per device type: a CUDA build has
 * thousands of GPU kernels, the CPU build a few hundred host-side ones), and both train to the same
 * losses (on a machine without a GPU the CUDA build runs on the CPU; with one, on the GPU, to a
 * tolerance). The GPU-build tests run where it is installed; CI installs it (DALAB_TEST_GPU_BUILD=1).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'ava';
import { ROOT } from '../helpers.js';

const inCi = process.env['CI'] === 'true';
const has = (pkg: string) => fs.existsSync(path.join(ROOT, 'node_modules', pkg, 'deps/lib/libtensorflow_cc.so.2'));
const cpuBuild = has('@tensorflow/tfjs-node');
const gpuBuild = has('@tensorflow/tfjs-node-gpu');
const wantGpu = inCi && process.env['DALAB_TEST_GPU_BUILD'] === '1';
const cpuTest = cpuBuild || inCi ? test : test.skip;
const gpuTest = gpuBuild || wantGpu ? test : test.skip;
if (!gpuBuild && !wantGpu) console.log('# GPU-build tests skipped: @tensorflow/tfjs-node-gpu not set up (npm run native:install -- --gpu)');

function kernelDevices(gpu: boolean): Record<string, number> {
  const result = spawnSync('bash', ['scripts/native-install.sh', '--check', ...(gpu ? ['--gpu'] : [])], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`native-install.sh --check failed: ${result.stderr}`);
  const counts: Record<string, number> = {};
  for (const line of result.stdout.split('\n')) {
    const m = /^(\S+) (\d+)$/.exec(line);
    if (m != null) counts[m[1]!] = Number(m[2]);
  }
  return counts;
}

function losses(pkg: string): { losses: number[]; gpu: boolean; cpuBackendLosses: number[] } {
  const child = path.join(ROOT, 'dist/test/backend/native-loss-child.js');
  const result = spawnSync(process.execPath, [child, pkg], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  if (result.status !== 0) throw new Error(`${pkg}: child failed: ${result.stderr.slice(-2000)}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { losses: number[]; gpu: boolean; cpuBackendLosses: number[] };
}

cpuTest('the library under @tensorflow/tfjs-node is TensorFlow\'s CPU-only build', (t) => {
  const counts = kernelDevices(false);
  t.true((counts['CPU'] ?? 0) > 1000, JSON.stringify(counts));
  t.true((counts['GPU'] ?? 0) < (counts['CPU'] ?? 0) / 4, `GPU kernels ${counts['GPU']} of CPU ${counts['CPU']}`);
  t.false('XLA_GPU' in counts, JSON.stringify(counts));
});

gpuTest('the library under @tensorflow/tfjs-node-gpu is TensorFlow\'s CUDA build', (t) => {
  const counts = kernelDevices(true);
  t.true((counts['GPU'] ?? 0) >= (counts['CPU'] ?? 0) / 4, `GPU kernels ${counts['GPU']} of CPU ${counts['CPU']}`);
  t.true((counts['XLA_GPU'] ?? 0) > 0, JSON.stringify(counts));
});

gpuTest('the CUDA build trains digitnet to the losses of the CPU build and of the cpu backend', (t) => {
  const cpu = losses('@tensorflow/tfjs-node');
  const gpu = losses('@tensorflow/tfjs-node-gpu');
  t.false(cpu.gpu);
  t.is(cpu.losses.length, 3);
  // Same TensorFlow version and CPU kernels: equal to float rounding; on a GPU, to cuDNN's.
  const tolerance = gpu.gpu ? 1e-3 : 1e-5;
  for (let i = 0; i < 3; i++) t.true(Math.abs(cpu.losses[i]! - gpu.losses[i]!) <= tolerance * Math.max(1, Math.abs(cpu.losses[i]!)), `step ${i + 1}: cpu ${cpu.losses[i]} gpu build (${gpu.gpu ? 'on the GPU' : 'on the CPU'}) ${gpu.losses[i]}`);
  // And the CUDA build against tfjs's cpu backend (pure JS): to 1e-4, as native.test.ts.
  for (let i = 0; i < 3; i++) t.true(Math.abs(gpu.losses[i]! - gpu.cpuBackendLosses[i]!) <= 1e-4 * Math.abs(gpu.cpuBackendLosses[i]!), `step ${i + 1}: gpu build ${gpu.losses[i]} cpu backend ${gpu.cpuBackendLosses[i]}`);
  t.true(cpu.losses.every(Number.isFinite) && new Set(cpu.losses).size === 3, `finite, and the weights moved: ${cpu.losses.join(', ')}`);
});
