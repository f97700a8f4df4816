#!/usr/bin/env bash
# Native TensorFlow for @tensorflow/tfjs-node without the libtensorflow download its install
# script attempts (that host is outside the package registries). Instead:
#   1. pip downloads the tensorflow-cpu wheel from PyPI (any Python: --python-version 3.10);
#   2. its libtensorflow_cc.so.2 exports the TensorFlow C API (TF_* and TFE_*, the symbols the
#      binding calls) and needs only libtensorflow_framework.so.2 and the C/C++ runtime: both go to
#      tfjs-node's deps/lib, with libtensorflow.so pointing at libtensorflow_cc.so.2, and the C
#      headers of the same wheel go to deps/include;
#   3. node-gyp (bundled with npm) builds tfjs-node's binding against them, using this Node's own
#      headers (--nodedir), so nothing else is downloaded.
#   4. the built binding is kept in the download cache next to the wheel, so a fresh clone on the same
#      machine copies it instead of compiling again.
# `npm install` runs this (scripts/postinstall.js). When the binding already loads, it does nothing.
#
# --gpu: the same for @tensorflow/tfjs-node-gpu from the CUDA build (PyPI's `tensorflow` wheel,
# ~475 MB; its libtensorflow_cc.so.2 loads CUDA at run time). When nvidia-smi sees a GPU, the CUDA
# libraries that wheel names (its `and-cuda` extra: nvidia-*-cu12 wheels, ~2.5 GB) go to
# deps/nvidia/<name>/lib, where the library's RUNPATH ($ORIGIN/../nvidia/...) finds them. Without a
# GPU the build still installs and loads (TensorFlow then runs on the CPU); `dalab backends` says why
# tensorflow-gpu is not used. `--check` prints the kernel count per device type of the built library
# (scripts/tf-kernel-devices.c): a CUDA build registers thousands of GPU kernels.
# Usage: npm run native:install [-- --force] [-- --gpu] [-- --check]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

TF_VERSION="${DALAB_TF_WHEEL_VERSION:-2.15.1}"
CACHE="${DALAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dalab}/native"
FORCE=0; GPU=0; CHECK=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    --gpu) GPU=1 ;;
    --check) CHECK=1 ;;
    *) echo "native: unknown option $arg (--force, --gpu, --check)" >&2; exit 2 ;;
  esac
done
if [ "$GPU" = 1 ]; then
  NPM_PKG=@tensorflow/tfjs-node-gpu; WHEEL=tensorflow; WHEEL_FILE=tensorflow; FLAVOUR=gpu
else
  NPM_PKG=@tensorflow/tfjs-node; WHEEL=tensorflow-cpu; WHEEL_FILE=tensorflow_cpu; FLAVOUR=cpu
fi
PKG=node_modules/$NPM_PKG
mkdir -p "$CACHE"

# The kernel count per device type of the library under $PKG/deps/lib (see the header).
kernel_devices() {
  local bin="$CACHE/tf-kernel-devices-$FLAVOUR"
  gcc -O1 -o "$bin" scripts/tf-kernel-devices.c -I"$PKG/deps/include" -L"$PKG/deps/lib" -ltensorflow \
    -Wl,-rpath,"$ROOT/$PKG/deps/lib" && TF_CPP_MIN_LOG_LEVEL=3 "$bin" 2>/dev/null
}
if [ "$CHECK" = 1 ]; then
  [ -f "$PKG/deps/lib/libtensorflow_cc.so.2" ] || { echo "native: $NPM_PKG is not set up (npm run native:install$([ "$GPU" = 1 ] && echo ' -- --gpu'))" >&2; exit 1; }
  kernel_devices
  exit $?
fi

if [ ! -f "$PKG/package.json" ]; then
  echo "native: installing $NPM_PKG (without its download script)"
  # Named together so that npm keeps both (a --no-save install drops other unsaved packages).
  others=""; for p in @tensorflow/tfjs-node @tensorflow/tfjs-node-gpu; do
    [ "$p" != "$NPM_PKG" ] && [ -f "node_modules/$p/package.json" ] && others="$others $p@4.22.0"
  done
  npm install --no-save --ignore-scripts --no-audit --no-fund "$NPM_PKG@4.22.0" $others
fi
napi=$(node -p "Math.max(...require('./$PKG/package.json').binary.napi_versions.filter(v => v <= Number(process.versions.napi)))")
tfjs_version=$(node -p "require('./$PKG/package.json').version")
BINDING="$PKG/lib/napi-v$napi/tfjs_binding.node"
suffix=""; [ "$GPU" = 1 ] && suffix="-gpu"
CACHED_BINDING="$CACHE/tfjs_binding$suffix-tfjs$tfjs_version-napi$napi-tf$TF_VERSION.node"
loads() {
  TF_CPP_MIN_LOG_LEVEL=3 node -e "require('$NPM_PKG'); const tf = require('@tensorflow/tfjs'); tf.setBackend('tensorflow').then(ok => process.exit(ok ? 0 : 1), () => process.exit(1))" >/dev/null 2>&1
}
if [ "$FORCE" = 0 ] && [ -f "$BINDING" ] && [ -f "$PKG/deps/lib/libtensorflow_cc.so.2" ] && loads; then
  echo "native: $NPM_PKG already set up (--force rebuilds)"
  exit 0
fi

# pip download of one wheel (no dependencies) into the cache, 3 tries.
download() {
  for attempt in 1 2 3; do
    python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
      --python-version 3.10 --platform manylinux2014_x86_64 "$1" -d "$CACHE" && return 0
    echo "native: download of $1 failed (attempt $attempt)"; sleep 5
  done
  echo "native: the download of $1 failed 3 times" >&2; return 1
}
wheel=$(ls "$CACHE"/"$WHEEL_FILE"-"$TF_VERSION"-*.whl 2>/dev/null | head -n 1 || true)
if [ -z "$wheel" ]; then
  echo "native: downloading the $WHEEL $TF_VERSION wheel from PyPI ($([ "$GPU" = 1 ] && echo '~475' || echo '~207') MB)"
  download "$WHEEL==$TF_VERSION" || exit 1
  wheel=$(ls "$CACHE"/"$WHEEL_FILE"-"$TF_VERSION"-*.whl | head -n 1)
fi

echo "native: extracting the C API library and headers from $(basename "$wheel")"
rm -rf "$PKG/deps" "$CACHE/extract"
python3 - "$wheel" "$CACHE/extract" <<'PY'
import sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        # The C API headers include a few platform headers of the same tree: take the tree's headers.
        if name in ("tensorflow/libtensorflow_cc.so.2", "tensorflow/libtensorflow_framework.so.2") or \
           (name.startswith("tensorflow/include/tensorflow/") and name.endswith(".h")) or \
           (name.startswith("tensorflow/include/tsl/") and name.endswith(".h")):
            z.extract(name, out)
PY
mkdir -p "$PKG/deps/lib" "$PKG/deps/include"
mv "$CACHE/extract/tensorflow/libtensorflow_cc.so.2" "$CACHE/extract/tensorflow/libtensorflow_framework.so.2" "$PKG/deps/lib/"
cp -r "$CACHE/extract/tensorflow/include/." "$PKG/deps/include/"
rm -rf "$CACHE/extract"
(cd "$PKG/deps/lib" && ln -sf libtensorflow_cc.so.2 libtensorflow.so && ln -sf libtensorflow_framework.so.2 libtensorflow_framework.so)

if [ "$GPU" = 1 ]; then
  if command -v nvidia-smi >/dev/null && nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
    # The CUDA libraries the wheel's `and-cuda` extra pins, at the versions it names.
    cuda=$(python3 - "$wheel" <<'PY'
import re, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    meta = next(n for n in z.namelist() if n.endswith('.dist-info/METADATA'))
    for line in z.read(meta).decode().splitlines():
        m = re.match(r"Requires-Dist: (nvidia-[a-z0-9-]+) \(==([^)]+)\) ; extra == 'and-cuda'", line)
        if m and m.group(1) not in ('nvidia-cuda-nvcc-cu12', 'nvidia-nccl-cu12'):
            print(f"{m.group(1)}=={m.group(2)}")
PY
)
    echo "native: $(nvidia-smi -L | head -n 1); the CUDA libraries: $(echo $cuda | tr '\n' ' ')"
    for req in $cuda; do
      name=${req%%==*}; file=$(echo "$name" | tr - _)-${req##*==}
      ls "$CACHE/$file"-*.whl >/dev/null 2>&1 || download "$req" || exit 1
      python3 - "$(ls "$CACHE/$file"-*.whl | head -n 1)" "$PKG/deps" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for name in z.namelist():
        if name.startswith('nvidia/') and '/lib/' in name:
            z.extract(name, sys.argv[2])
PY
    done
  else
    echo "native: no NVIDIA GPU here (nvidia-smi found none): the CUDA libraries are not downloaded; TensorFlow's CUDA build will run on the CPU"
  fi
fi

if [ "$FORCE" = 0 ] && [ -f "$CACHED_BINDING" ]; then
  echo "native: the binding built earlier on this machine (from dalab's cache)"
  mkdir -p "$(dirname "$BINDING")" && cp "$CACHED_BINDING" "$BINDING"
  if loads; then echo "native: $NPM_PKG loads (tensorflow)"; exit 0; fi
  echo "native: the cached binding does not load here; building it"
fi

echo "native: building the tfjs-node binding with node-gyp"
NODE_GYP="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
NODE_DIR="$(dirname "$(readlink -f "$(command -v node)")")/.."
# The variables node-pre-gyp would pass; the binding lands where tfjs-node looks for it.
(cd "$PKG" && node "$NODE_GYP" rebuild --nodedir="$NODE_DIR" --jobs=2 \
  --module_name=tfjs_binding --module_path="$ROOT/$PKG/lib/napi-v$napi" --napi_build_version="$napi" \
  >"$CACHE/node-gyp.log" 2>&1) || { tail -n 30 "$CACHE/node-gyp.log"; exit 1; }
cp "$BINDING" "$CACHED_BINDING.tmp" && mv "$CACHED_BINDING.tmp" "$CACHED_BINDING"

TF_CPP_MIN_LOG_LEVEL=3 node -e "require('$NPM_PKG'); const tf = require('@tensorflow/tfjs'); tf.setBackend('tensorflow').then(ok => { if (!ok) process.exit(1); console.log('native: $NPM_PKG loads (' + tf.getBackend() + ')'); })"
