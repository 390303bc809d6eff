#!/bin/bash
# BSD68 at sigma 25 (evaluate's paper protocol) for a run's epoch snapshots: the PSNR-against-minutes curve.
# The snapshots and their wall-clock minutes are what tools/photo/watch.sh copied while the run trained.
# Usage: tools/photo/snapshots.sh DENOISER RUN_DIR BSD68_DIR LABEL EPOCH... >> curve.csv   (columns: label,epoch,minutes,psnr_db)
set -euo pipefail
denoiser=$1; run=$2; bsd68=$3; label=$4; shift 4
for epoch in "$@"; do
  n=$(printf %03d "$epoch")
  seconds=$(awk -v e="$epoch" '$1 == e { print $2 }' "$run/epochs/wallclock.txt")
  out=$(mktemp -d)
  "$denoiser" evaluate --checkpoint "$run/epochs/epoch-$n.ckpt" --images "$bsd68" --noise gaussian:25/255 --output-dir "$out" > /dev/null
  psnr=$(awk -F, '$3 == "model" { print $6 }' "$out/evaluation.csv")
  echo "\"$label\",$epoch,$(awk -v s="$seconds" 'BEGIN { printf "%.1f", s / 60 }'),$psnr"
  rm -rf "$out"
done
