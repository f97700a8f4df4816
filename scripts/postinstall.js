#!/usr/bin/env node
// `npm install` / `npm ci` step: sets up native TensorFlow (scripts/native-install.sh: the
// tensorflow-cpu wheel from PyPI, ~207 MB once, kept in dalab's download cache) so that dalab trains
// on it by default. It never fails the install: on any failure it prints one line saying why and
// that the WebAssembly backend will be used. DALAB_SKIP_NATIVE=1 skips it (wasm only).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const say = (line) => process.stdout.write(`dalab postinstall: ${line}\n`);
const fallback = (why) => say(`native TensorFlow not set up (${why}); dalab will train on WebAssembly. Retry: npm run native:install`);

function main() {
  if (process.env['DALAB_SKIP_NATIVE'] === '1') return say('DALAB_SKIP_NATIVE=1: native TensorFlow skipped; dalab will train on WebAssembly');
  if (process.platform !== 'linux' || process.arch !== 'x64') return fallback(`the wheel route is for linux-x64, this is ${process.platform}-${process.arch}`);
  // Installed as a dependency of another project, scripts/ and the binding live elsewhere: same script.
  const script = path.join(root, 'scripts', 'native-install.sh');
  if (!fs.existsSync(script)) return fallback(`${script} is missing`);
  const started = Date.now();
  say('setting up native TensorFlow (npm run native:install; a ~207 MB download the first time)');
  const log = path.join(os.tmpdir(), `dalab-native-install-${process.pid}.log`);
  const out = fs.openSync(log, 'w');
  const result = spawnSync('bash', [script], { cwd: root, stdio: ['ignore', out, out], env: process.env });
  fs.closeSync(out);
  const text = fs.readFileSync(log, 'utf8');
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  if (result.error != null) return fallback(`bash could not run: ${result.error.message}`);
  if (result.status !== 0) {
    const reason = [...lines].reverse().find((l) => /error|fail|not found|denied|No such/i.test(l)) ?? lines.at(-1) ?? `exit ${result.status}`;
    return fallback(`${reason.trim().slice(0, 200)}; full log ${log}`);
  }
  fs.rmSync(log, { force: true });
  say(`${lines.filter((l) => l.startsWith('native:')).at(-1) ?? 'native TensorFlow ready'} in ${seconds} s`);
  // With an NVIDIA GPU, also TensorFlow's CUDA build (tfjs-node-gpu): dalab then trains on the GPU.
  const smi = spawnSync('nvidia-smi', ['-L'], { encoding: 'utf8' });
  if (smi.status === 0 && /^GPU/m.test(smi.stdout ?? '')) {
    say(`${smi.stdout.split('\n')[0]}: setting up the GPU build (npm run native:install -- --gpu; ~475 MB + the CUDA libraries the first time)`);
    const gpuStarted = Date.now();
    const gpu = spawnSync('bash', [script, '--gpu'], { cwd: root, encoding: 'utf8', env: process.env });
    const gpuLines = `${gpu.stdout ?? ''}${gpu.stderr ?? ''}`.split('\n').filter((l) => l.trim() !== '');
    if (gpu.status === 0) say(`${gpuLines.filter((l) => l.startsWith('native:')).at(-1) ?? 'GPU build ready'} in ${((Date.now() - gpuStarted) / 1000).toFixed(0)} s`);
    else say(`GPU build not set up (${(gpuLines.at(-1) ?? `exit ${gpu.status}`).slice(0, 200)}); dalab will train on the CPU build. Retry: npm run native:install -- --gpu`);
  }
}

try {
  main();
} catch (error) {
  fallback(error instanceof Error ? error.message.split('\n')[0] : String(error));
}
process.exitCode = 0;
