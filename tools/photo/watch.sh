#!/bin/bash
# Keeps every epoch's last.ckpt of a training run, with the wall-clock seconds since START (epoch-end times, for the
# PSNR-against-minutes curve). Usage: tools/photo/watch.sh RUN_DIR START_EPOCH_SECONDS &   (stop it when the run ends)
run=$1; start=$2; mkdir -p "$run/epochs"; seen=""
while true; do
  if [ -f "$run/last.ckpt" ]; then
    m=$(stat -c %Y "$run/last.ckpt")
    if [ "$m" != "$seen" ]; then
      seen=$m; n=$(($(wc -l < "$run/metrics.csv") - 1))
      cp "$run/last.ckpt" "$run/epochs/epoch-$(printf %03d $n).ckpt"
      echo "$n $((m - start))" >> "$run/epochs/wallclock.txt"
    fi
  fi
  sleep 5
done
