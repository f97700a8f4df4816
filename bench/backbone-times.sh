#!/usr/bin/env bash
# Wall time of `dalab run experiments/quickstart.yaml --set model.backbone=NAME --set train.steps=100`
# for every backbone on each backend (the README's backbone table). Prints one TSV line per run:
# backbone, backend, seconds, status, target_test_acc. Usage: bash bench/backbone-times.sh [backends] [backbones]
set -uo pipefail
cd "$(dirname "$0")/.."
backends="${1:-tensorflow wasm}"
backbones="${2:-digitnet lenet alexnet vgg resnet densenet inception mobilenet}"
store="$(mktemp -d)"
for backend in $backends; do
  for b in $backbones; do
    start=$(date +%s%N)
    out=$(node bin/dalab.js run experiments/quickstart.yaml --backend "$backend" --set model.backbone="$b" --set train.steps=100 \
      --set tracking.uri="file:$store" --json 2>/dev/null | tail -n 1)
    end=$(date +%s%N)
    status=$(echo "$out" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const j=JSON.parse(s);console.log(j.status+"\t"+(100*j.metrics.target_test_acc).toFixed(1))}catch{console.log("FAILED\t-")}})')
    ms=$(( (end - start) / 1000000 ))
    printf '%s\t%s\t%d.%d\t%s\n' "$b" "$backend" $((ms / 1000)) $(((ms % 1000) / 100)) "$status"
  done
done
rm -rf "$store"
