#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: sets up and checks dalab's GPU build (@tensorflow/tfjs-node-gpu
# from TensorFlow's CUDA wheel), then measures it against PyTorch on the same GPU.
#   1. the GPU the driver sees;  2. the GPU build (npm run native:install -- --gpu);
#   3. its kernel count per device (a CUDA build registers thousands of GPU kernels);
#   4. `dalab backends` (tensorflow-gpu must load, or say why not);
#   5. three digitnet training steps on the GPU build and on the CPU build: the same losses;
#   6. `dalab bench` on tensorflow-gpu with the PyTorch peer on cuda.
# Usage: bash scripts/gpu-check.sh   (exit status: the first step that failed)
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== 1. GPU";           nvidia-smi -L
echo "== 2. GPU build";     bash scripts/native-install.sh --gpu
echo "== 3. kernels";       bash scripts/native-install.sh --gpu --check
echo "== 4. backends";      node bin/dalab.js backends
node -e "require('./dist/src/backend/backends.js')" 2>/dev/null || npm run build >/dev/null
echo "== 5. same losses (3 steps, digitnet source)"
gpu=$(node dist/test/backend/native-loss-child.js @tensorflow/tfjs-node-gpu)
cpu=$(node dist/test/backend/native-loss-child.js @tensorflow/tfjs-node)
echo "gpu build: $gpu"; echo "cpu build: $cpu"
node -e '
const [g, c] = process.argv.slice(1).map((s) => JSON.parse(s));
if (!g.gpu) { console.error("the GPU build did not place its ops on the GPU"); process.exit(1); }
const worst = Math.max(...g.losses.map((v, i) => Math.abs(v - c.losses[i]) / Math.max(1, Math.abs(c.losses[i]))));
console.log(`largest relative difference ${worst.toExponential(2)} (tolerance 1e-3)`);
process.exit(worst <= 1e-3 ? 0 : 1);' "$gpu" "$cpu"
echo "== 6. bench (PyTorch peer on cuda)"
node bin/dalab.js bench --backends tensorflow-gpu --strategies source,dann --peer torch
