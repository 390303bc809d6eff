#!/bin/bash
# BSD68 at sigma 25 (evaluate's paper protocol) for a run's epoch snapshots: the PSNR-against-minutes curve.
# The snapshots and their wall-clock minutes are what tools/photo/watch.sh copied while the run trained.
# Usage: tools/photo/snapshots.sh [--posterior] DENOISER RUN_DIR BSD68_DIR LABEL EPOCH... >> curve.csv
# (columns: label,epoch,minutes,psnr_db). --posterior: a blind-spot run's posterior too, as a second row per epoch
# labelled "LABEL + posterior", from the same evaluate run (the same noisy images).
set -euo pipefail
posterior=(); if [ "${1:-}" = --posterior ]; then posterior=(--posterior); shift; fi
denoiser=$1; run=$2; bsd68=$3; label=$4; shift 4
for epoch in "$@"; do
  n=$(printf %03d "$epoch")
  seconds=$(awk -v e="$epoch" '$1 == e { print $2 }' "$run/epochs/wallclock.txt")
  minutes=$(awk -v s="$seconds" 'BEGIN { printf "%.1f", s / 60 }')
  out=$(mktemp -d)
  "$denoiser" evaluate --checkpoint "$run/epochs/epoch-$n.ckpt" --images "$bsd68" --noise gaussian:25/255 --output-dir "$out" "${posterior[@]}" > /dev/null
  echo "\"$label\",$epoch,$minutes,$(awk -F, '$3 == "model" { print $6 }' "$out/evaluation.csv")"
  # The posterior's method name holds a comma, so it is quoted and its PSNR is the seventh comma-separated field.
  if [ ${#posterior[@]} -gt 0 ]; then
    echo "\"$label + posterior\",$epoch,$minutes,$(grep -F '"model, blind-spot posterior' "$out/evaluation.csv" | awk -F, '{ print $7 }')"
  fi
  rm -rf "$out"
done
