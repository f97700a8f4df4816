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
# Usage: npm run native:install [-- --force]   (`dalab backends` then shows tensorflow loaded)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

TF_VERSION="${DALAB_TF_WHEEL_VERSION:-2.15.1}"
CACHE="${DALAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dalab}/native"
PKG=node_modules/@tensorflow/tfjs-node
mkdir -p "$CACHE"

if [ ! -f "$PKG/package.json" ]; then
  echo "native: installing @tensorflow/tfjs-node (without its download script)"
  npm install --no-save --ignore-scripts --no-audit --no-fund @tensorflow/tfjs-node@4.22.0
fi

FORCE=0; [ "${1:-}" = "--force" ] && FORCE=1
napi=$(node -p "Math.max(...require('./$PKG/package.json').binary.napi_versions.filter(v => v <= Number(process.versions.napi)))")
tfjs_version=$(node -p "require('./$PKG/package.json').version")
BINDING="$PKG/lib/napi-v$napi/tfjs_binding.node"
CACHED_BINDING="$CACHE/tfjs_binding-tfjs$tfjs_version-napi$napi-tf$TF_VERSION.node"
loads() {
  TF_CPP_MIN_LOG_LEVEL=2 node -e "require('@tensorflow/tfjs-node'); const tf = require('@tensorflow/tfjs'); tf.setBackend('tensorflow').then(ok => process.exit(ok ? 0 : 1), () => process.exit(1))" >/dev/null 2>&1
}
if [ "$FORCE" = 0 ] && [ -f "$BINDING" ] && [ -f "$PKG/deps/lib/libtensorflow_cc.so.2" ] && loads; then
  echo "native: tensorflow backend already set up (--force rebuilds)"
  exit 0
fi

wheel=$(ls "$CACHE"/tensorflow_cpu-"$TF_VERSION"-*.whl 2>/dev/null | head -n 1 || true)
if [ -z "$wheel" ]; then
  echo "native: downloading the tensorflow-cpu $TF_VERSION wheel from PyPI (~200 MB)"
  for attempt in 1 2 3; do
    python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
      --python-version 3.10 --platform manylinux2014_x86_64 "tensorflow-cpu==$TF_VERSION" -d "$CACHE" && break
    [ "$attempt" = 3 ] && { echo "native: the wheel download failed 3 times" >&2; exit 1; }
    echo "native: download failed (attempt $attempt), retrying"; sleep 5
  done
  wheel=$(ls "$CACHE"/tensorflow_cpu-"$TF_VERSION"-*.whl | head -n 1)
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

if [ "$FORCE" = 0 ] && [ -f "$CACHED_BINDING" ]; then
  echo "native: the binding built earlier on this machine (from dalab's cache)"
  mkdir -p "$(dirname "$BINDING")" && cp "$CACHED_BINDING" "$BINDING"
  if loads; then echo "native: tensorflow backend loads (tensorflow)"; exit 0; fi
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

TF_CPP_MIN_LOG_LEVEL=2 node -e "require('@tensorflow/tfjs-node'); const tf = require('@tensorflow/tfjs'); tf.setBackend('tensorflow').then(ok => { if (!ok) process.exit(1); console.log('native: tensorflow backend loads (' + tf.getBackend() + ')'); })"
