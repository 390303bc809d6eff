#!/usr/bin/env bash
# Runs a command, samples its resident memory every half second, and prints the peak and the samples at each
# "epoch" line of its output. Usage: tools/perf/rss.sh COMMAND... (a `denoiser train` run, for the README's figures)
set -euo pipefail
log=$(mktemp) samples=$(mktemp)
"$@" >"$log" 2>&1 &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
  [ -n "$rss" ] && echo "$(date +%s.%N) $rss $(grep -c '^epoch' "$log" || true)" >>"$samples"
  sleep 0.5
done
wait "$pid" || { cat "$log"; exit 1; }
grep '^epoch' "$log" || true
awk '{ if ($2 > peak) peak = $2; last[$3] = $2 } END {
  printf "peak RSS %d kB\n", peak
  for (e in last) if (e > 0) printf "RSS after epoch %d: %d kB\n", e, last[e] }' "$samples" | sort -t' ' -k4n
rm -f "$log" "$samples"
