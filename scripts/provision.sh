#!/usr/bin/env bash
# `npm test` step: installs what the test suite needs so that a fresh machine runs all of it.
#   - without root: MLflow into .venv (requirements-mlflow.txt; the MLflow server tests) and native
#     TensorFlow (scripts/native-install.sh; a no-op when the binding already loads), and its CUDA
#     build (tfjs-node-gpu) where there is a GPU or DALAB_TEST_GPU_BUILD=1; timm (pure Python, into
#     .dalab/python) for the timm-resnet import fixtures;
#   - as root (or with password-less sudo): Debian's chromium (the report test opens index.html in
#     it), slurm-wlm + munge (the sweep test runs a real single-node array job) and python3-torch
#     (the peer of `dalab bench --peer torch`) + python3-torchvision (the weight-import equivalence
#     fixtures).
# Every step is skipped quickly when its component is already there. A step that fails prints one
# line and the tests that need the component skip, saying why (in CI, CI=true, they fail instead).
# DALAB_NO_PROVISION=1 skips all of it.
set -uo pipefail
cd "$(dirname "$0")/.."
[ "${DALAB_NO_PROVISION:-}" = "1" ] && { echo "provision: DALAB_NO_PROVISION=1, nothing installed"; exit 0; }
say() { echo "provision: $*"; }

# MLflow (pinned in requirements-mlflow.txt); a stamp holding the file's hash makes reruns instant.
stamp=.venv/.dalab-requirements
want=$(sha256sum requirements-mlflow.txt | cut -d' ' -f1)
if [ -x .venv/bin/python ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  :
else
  say "MLflow into .venv (requirements-mlflow.txt)"
  if { [ -x .venv/bin/python ] || python3 -m venv .venv; } &&
    .venv/bin/pip install --quiet --disable-pip-version-check -r requirements-mlflow.txt; then
    echo "$want" >"$stamp"
  else
    say "MLflow could not be installed into .venv; the MLflow server tests will skip"
  fi
fi

# Native TensorFlow: scripts/native-install.sh checks that the binding loads and stops there.
bash scripts/native-install.sh >/tmp/dalab-provision-native.log 2>&1 ||
  say "native TensorFlow could not be set up ($(tail -n 1 /tmp/dalab-provision-native.log)); its tests will skip"

# TensorFlow's CUDA build for @tensorflow/tfjs-node-gpu (~475 MB wheel; the CUDA libraries only with a
# GPU): where nvidia-smi lists a GPU, or when asked (DALAB_TEST_GPU_BUILD=1, as .ci/run does, to
# test the build on a machine without one).
if [ "${DALAB_TEST_GPU_BUILD:-}" = "1" ] || { command -v nvidia-smi >/dev/null && nvidia-smi -L 2>/dev/null | grep -q '^GPU'; }; then
  bash scripts/native-install.sh --gpu >/tmp/dalab-provision-native-gpu.log 2>&1 ||
    say "the GPU build could not be set up ($(tail -n 1 /tmp/dalab-provision-native-gpu.log)); its tests will skip"
fi

# timm (pure Python; building its models needs only torch) for the timm-resnet import fixtures,
# into .dalab/python (ignored by git), read by Debian's python3 through PYTHONPATH.
if [ ! -f .dalab/python/timm/__init__.py ]; then
  say "timm into .dalab/python (test/fixtures/make_torchvision_weights.py: timm's resnet files)"
  python3 -m pip install --quiet --disable-pip-version-check --no-deps --target .dalab/python timm==0.9.16 >/tmp/dalab-provision-timm.log 2>&1 ||
    say "timm could not be installed (log /tmp/dalab-provision-timm.log); the timm import test will skip"
fi

# Debian packages: only as root or with password-less sudo.
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
{ [ -x /usr/sbin/slurmctld ] && [ -x /usr/sbin/munged ]; } || missing+=(slurm-wlm munge)
/usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || missing+=(python3-torch)
/usr/bin/python3 -c 'import torchvision' >/dev/null 2>&1 || missing+=(python3-torchvision)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo"; else
      say "not root: ${missing[*]} not installed (apt-get install ${missing[*]}); the tests that need them will skip"
      exit 0
    fi
  fi
  if ! command -v apt-get >/dev/null; then
    say "no apt-get here: ${missing[*]} not installed; the tests that need them will skip"
    exit 0
  fi
  say "Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/dalab-provision-apt.log 2>&1 ||
    { $SUDO apt-get update -qq >>/tmp/dalab-provision-apt.log 2>&1 &&
      $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >>/tmp/dalab-provision-apt.log 2>&1; } ||
    say "apt-get install ${missing[*]} failed (log /tmp/dalab-provision-apt.log); the tests that need them will skip"
fi
exit 0
